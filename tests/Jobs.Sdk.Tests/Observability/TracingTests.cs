using System.Collections.Concurrent;
using System.Diagnostics;

namespace Jobs.Sdk.Tests.Observability;

[Collection(ObservabilityCollection.Name)]
public sealed class TracingTests
{
    private static string? Tag(Activity activity, string key) => activity.GetTagItem(key)?.ToString();

    [Fact]
    public async Task Push_fail_retry_succeed_makes_one_producer_span_and_a_linked_root_consumer_span_per_attempt()
    {
        var queueName = Obs.NewQueueName("trace");
        using var traces = new ActivityCollector(queueName);
        using var app = new ActivitySource(ActivityCollector.TestSourceName);
        var seen = new ConcurrentQueue<(int Attempt, string? TraceParent, ActivitySpanId? Current)>();
        await using var host = await ObsHost.Create(queueName, j => j
            .AddJob<ObsJob>((job, ctx, ct) =>
            {
                seen.Enqueue((ctx.Attempt, ctx.Headers.GetValueOrDefault(JobHeaders.TraceParent), Activity.Current?.SpanId));
                return ctx.Attempt < 3 ? throw new InvalidOperationException($"boom {ctx.Attempt}") : Task.CompletedTask;
            }, o => o.RetryStrategy = Obs.FastRetry)
            .AddWorkers(o => o.Concurrency = 2)).StartAsync();

        JobId id;
        ActivityContext requestContext;
        using (var request = app.StartActivity("request"))
        {
            Assert.NotNull(request);
            requestContext = request.Context;
            id = await host.Queue.PushAsync(new ObsJob(7));
        }

        await traces.WaitAsync(spans => spans.Count(s => s.Kind == ActivityKind.Consumer) == 3);
        var spans = traces.Spans;

        // Producer: a child of the caller's span, tagged per the messaging conventions.
        var producer = Assert.Single(spans, s => s.Kind == ActivityKind.Producer);
        Assert.Equal("send obs.job", producer.DisplayName);
        Assert.Equal(requestContext.TraceId, producer.TraceId);
        Assert.Equal(requestContext.SpanId, producer.ParentSpanId);
        Assert.Equal("jobs.sdk", Tag(producer, "messaging.system"));
        Assert.Equal("send", Tag(producer, "messaging.operation.type"));
        Assert.Equal(queueName, Tag(producer, "messaging.destination.name"));
        Assert.Equal(id.ToString(), Tag(producer, "messaging.message.id"));
        Assert.Equal("obs.job", Tag(producer, "jobs.job.name"));
        Assert.Equal(ActivityStatusCode.Unset, producer.Status);

        // Consumers: one per attempt, each a new trace linked (not parented) to the push.
        var consumers = spans.Where(s => s.Kind == ActivityKind.Consumer).OrderBy(s => (int)s.GetTagItem("jobs.job.attempt")!).ToArray();
        Assert.Equal([1, 2, 3], consumers.Select(s => (int)s.GetTagItem("jobs.job.attempt")!));
        foreach (var consumer in consumers)
        {
            Assert.Equal("process obs.job", consumer.DisplayName);
            Assert.Null(consumer.Parent);
            Assert.Equal(default, consumer.ParentSpanId);
            Assert.NotEqual(producer.TraceId, consumer.TraceId);
            var link = Assert.Single(consumer.Links);
            Assert.Equal(producer.TraceId, link.Context.TraceId);
            Assert.Equal(producer.SpanId, link.Context.SpanId);
            Assert.Equal("jobs.sdk", Tag(consumer, "messaging.system"));
            Assert.Equal("process", Tag(consumer, "messaging.operation.type"));
            Assert.Equal(queueName, Tag(consumer, "messaging.destination.name"));
            Assert.Equal(id.ToString(), Tag(consumer, "messaging.message.id"));
            Assert.Equal("obs.job", Tag(consumer, "jobs.job.name"));
        }

        for (var i = 0; i < 2; i++)
        {
            var failed = consumers[i];
            Assert.Equal(ActivityStatusCode.Error, failed.Status);
            Assert.Equal($"boom {i + 1}", failed.StatusDescription);
            Assert.Equal("retried", Tag(failed, "jobs.job.outcome"));
            Assert.Equal("System.InvalidOperationException", Tag(failed, "error.type"));
            var exception = Assert.Single(failed.Events, e => e.Name == "exception");
            var tags = exception.Tags.ToDictionary(t => t.Key, t => t.Value?.ToString());
            Assert.Equal("System.InvalidOperationException", tags["exception.type"]);
            Assert.Equal($"boom {i + 1}", tags["exception.message"]);
            Assert.Contains("InvalidOperationException", tags["exception.stacktrace"]);
        }

        Assert.Equal(ActivityStatusCode.Unset, consumers[2].Status);
        Assert.Equal("completed", Tag(consumers[2], "jobs.job.outcome"));
        Assert.DoesNotContain(consumers[2].Events, e => e.Name == "exception");

        // The push-time context is stored with the job, and the handler runs inside the consumer span.
        Assert.Equal(3, seen.Count);
        Assert.All(seen, s => Assert.Equal(producer.Id, s.TraceParent));
        foreach (var (attempt, _, current) in seen)
        {
            Assert.Equal(consumers[attempt - 1].SpanId, current);
        }
    }

    [Fact]
    public async Task PushMany_makes_one_batch_span_and_every_job_carries_its_context()
    {
        var queueName = Obs.NewQueueName("trace-batch");
        using var traces = new ActivityCollector(queueName);
        await using var host = await ObsHost.Create(queueName, j => j
            .AddJob<ObsJob>((job, ctx, ct) => Task.CompletedTask)
            .AddWorkers(o => o.Concurrency = 4)).StartAsync();

        var ids = await host.Queue.PushManyAsync([new ObsJob(1), new ObsJob(2), new ObsJob(3)]);

        await traces.WaitAsync(spans => spans.Count(s => s.Kind == ActivityKind.Consumer) == 3);
        var producer = Assert.Single(traces.Spans, s => s.Kind == ActivityKind.Producer);
        Assert.Equal(3, producer.GetTagItem("messaging.batch.message_count"));
        Assert.Null(producer.GetTagItem("messaging.message.id"));
        var consumers = traces.Spans.Where(s => s.Kind == ActivityKind.Consumer).ToArray();
        Assert.Equal(ids.Select(i => i.ToString()).Order(), consumers.Select(c => Tag(c, "messaging.message.id")!).Order());
        Assert.All(consumers, c => Assert.Equal(producer.SpanId, Assert.Single(c.Links).Context.SpanId));
    }

    [Fact]
    public async Task Jobs_that_cannot_run_make_an_error_span_with_the_exception()
    {
        var queueName = Obs.NewQueueName("trace-discard");
        using var traces = new ActivityCollector(queueName);
        await using var host = await ObsHost.Create(queueName, j => j
            .AddJob<ObsJob>((job, ctx, ct) => Task.CompletedTask)
            .AddWorkers()).StartAsync();

        // An unknown name is not claimed (another version may handle it): only the undecodable payload is discarded.
        await host.Queue.PushAsync(new ObsOrphanJob(1));
        await host.Queue.PushAsync(new ObsBadPayloadJob("not a number"));

        await traces.WaitAsync(spans => spans.Count(s => s.Kind == ActivityKind.Consumer) == 1);
        var consumers = traces.Spans.Where(s => s.Kind == ActivityKind.Consumer).ToArray();
        Assert.All(consumers, c =>
        {
            Assert.Equal(ActivityStatusCode.Error, c.Status);
            Assert.Equal("discarded", Tag(c, "jobs.job.outcome"));
        });
        Assert.Equal(
            ["Jobs.Sdk.JobDecodeException"],
            consumers.Select(c => Tag(c, "error.type")).Order());
    }

    [Fact]
    public async Task Without_a_listener_no_span_is_made_and_no_trace_header_is_stored()
    {
        Assert.False(JobsInstrumentation.Source.HasListeners(), "another test leaked an ActivityListener on Jobs.Sdk");
        var queueName = Obs.NewQueueName("trace-none");
        var headers = new TaskCompletionSource<IReadOnlyDictionary<string, string>>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var host = await ObsHost.Create(queueName, j => j
            .AddJob<ObsJob>((job, ctx, ct) =>
            {
                headers.TrySetResult(ctx.Headers);
                Assert.Null(Activity.Current);
                return Task.CompletedTask;
            })
            .AddWorkers()).StartAsync();

        await host.Queue.PushAsync(new ObsJob(1));

        var seen = await headers.Task.WaitAsync(Obs.Timeout);
        Assert.False(seen.ContainsKey(JobHeaders.TraceParent));
        Assert.False(seen.ContainsKey(JobHeaders.TraceState));
    }

    [Fact]
    public async Task A_listener_that_samples_nothing_gets_no_span_and_no_header_is_stored()
    {
        var queueName = Obs.NewQueueName("trace-unsampled");
        using var traces = new ActivityCollector(queueName, ActivitySamplingResult.None);
        var headers = new TaskCompletionSource<IReadOnlyDictionary<string, string>>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var host = await ObsHost.Create(queueName, j => j
            .AddJob<ObsJob>((job, ctx, ct) => { headers.TrySetResult(ctx.Headers); return Task.CompletedTask; })
            .AddWorkers()).StartAsync();

        Assert.True(JobsInstrumentation.Source.HasListeners());
        await host.Queue.PushAsync(new ObsJob(1));

        var seen = await headers.Task.WaitAsync(Obs.Timeout);
        Assert.False(seen.ContainsKey(JobHeaders.TraceParent));
        Assert.Empty(traces.Spans);
    }

    [Fact]
    public async Task Trace_state_is_stored_and_restored_on_the_link()
    {
        var queueName = Obs.NewQueueName("trace-state");
        using var traces = new ActivityCollector(queueName);
        using var app = new ActivitySource(ActivityCollector.TestSourceName);
        await using var host = await ObsHost.Create(queueName, j => j
            .AddJob<ObsJob>((job, ctx, ct) => Task.CompletedTask)
            .AddWorkers()).StartAsync();

        using (var request = app.StartActivity("request"))
        {
            Assert.NotNull(request);
            request.TraceStateString = "vendor=abc";
            await host.Queue.PushAsync(new ObsJob(1));
        }

        await traces.WaitAsync(spans => spans.Any(s => s.Kind == ActivityKind.Consumer));
        var consumer = Assert.Single(traces.Spans, s => s.Kind == ActivityKind.Consumer);
        var link = Assert.Single(consumer.Links);
        Assert.Equal("vendor=abc", link.Context.TraceState);
        Assert.True(link.Context.IsRemote);
    }
}

[Collection(ObservabilityCollection.Name)]
public sealed class ThrowingListenerTests
{
    [Fact]
    public async Task Listeners_that_throw_change_nothing_about_pushes_and_jobs()
    {
        var queueName = Obs.NewQueueName("trace-throwing");
        using var activities = new ActivityListener
        {
            ShouldListenTo = s => s.Name == JobsDiagnostics.ActivitySourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStarted = _ => throw new InvalidOperationException("listener start"),
            ActivityStopped = _ => throw new InvalidOperationException("listener stop"),
            ExceptionRecorder = (Activity _, Exception _, ref TagList _) => throw new InvalidOperationException("listener exception"),
        };
        ActivitySource.AddActivityListener(activities);
        using var meters = new System.Diagnostics.Metrics.MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == JobsDiagnostics.MeterName)
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        meters.SetMeasurementEventCallback<long>((_, _, _, _) => throw new InvalidOperationException("listener measurement"));
        meters.SetMeasurementEventCallback<double>((_, _, _, _) => throw new InvalidOperationException("listener measurement"));
        meters.Start();
        var attempts = new ConcurrentQueue<int>();
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var host = await ObsHost.Create(queueName, j => j
            .AddJob<ObsJob>((job, ctx, ct) =>
            {
                attempts.Enqueue(ctx.Attempt);
                if (ctx.Attempt < 3)
                {
                    throw new InvalidOperationException("boom");
                }

                done.TrySetResult();
                return Task.CompletedTask;
            }, o => o.RetryStrategy = Obs.FastRetry)
            .AddWorkers()).StartAsync();

        var id = await host.Queue.PushAsync(new ObsJob(1));
        await done.Task.WaitAsync(Obs.Timeout);
        await host.Worker.StopAsync(CancellationToken.None).WaitAsync(Obs.Timeout);

        Assert.Equal([1, 2, 3], attempts);
        Assert.Null(await host.Queue.GetJobAsync(id)); // completed (and not retained)
    }
}
