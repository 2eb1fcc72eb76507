using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// README "Observability" as a user wires it: the OpenTelemetry SDK (<c>OpenTelemetry.Extensions.Hosting</c>) set up by
/// README's block, verbatim, in a Generic Host whose workers run on PostgreSQL, with in-memory exporters flushed by the
/// test (<c>ForceFlush</c>). What README's Tracing and Metrics promise must be what the SDK exports, not only what a raw
/// <see cref="ActivityListener"/> or <see cref="System.Diagnostics.Metrics.MeterListener"/> sees.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed partial class OpenTelemetrySdkTests(PostgresFixture fixture)
{
    private const string Schema = "jobs_test";

    /// <summary>The application's own source, whose span the pushes run in (as a request's span would).</summary>
    private static readonly ActivitySource Application = new("Jobs.Sdk.Tests.OpenTelemetryApp");

    /// <summary>
    /// Two jobs pushed in an application span, one that completes and one that fails twice (a retry, then for good): the
    /// exported spans are README's (a producer span per push, child of the application span; a consumer span per attempt
    /// in a new trace linked to its push, with the messaging attributes, the attempt and its outcome, <c>Error</c> with
    /// <c>error.type</c> and an <c>exception</c> event for the failures), and the exported metrics are README's instruments
    /// with their types, units and exactly their documented tags.
    /// </summary>
    [Fact]
    public async Task Readmes_OpenTelemetry_setup_exports_the_documented_spans_and_metrics()
    {
        await using var dataSource = fixture.CreateDataSource();
        var queueName = "otelsdk_" + Guid.NewGuid().ToString("N")[..8];
        var spans = new LockedCollection<Activity>();
        var metrics = new LockedCollection<MetricSnapshot>();
        var handlerSpans = new LockedCollection<(int Value, int Attempt, string? SpanId)>();

        using var host = CreateHost(dataSource, queueName, spans, metrics, (job, context) =>
        {
            handlerSpans.Add((job.Value, context.Attempt, Activity.Current?.SpanId.ToHexString()));
            return job.Value < 0 ? throw new InvalidOperationException($"job {job.Value} fails on purpose") : Task.CompletedTask;
        });
        await host.StartAsync();
        var tracer = host.Services.GetRequiredService<TracerProvider>();
        var meter = host.Services.GetRequiredService<MeterProvider>();
        var queue = host.Services.GetRequiredService<JobQueue>();

        JobId ok, failing;
        string requestSpan, requestTrace;
        using (var request = Application.StartActivity("checkout"))
        {
            Assert.True(request is { Recorded: true }, "the application's span is sampled by the SDK");
            (requestSpan, requestTrace) = (request.SpanId.ToHexString(), request.TraceId.ToHexString());
            ok = await queue.PushAsync(new ValueJob(1));
            failing = await queue.PushAsync(new ValueJob(-1));
        }

        await TestExtensions.EventuallyAsync(async () => (await queue.GetJobAsync(ok))?.State == JobState.Completed
            && (await queue.GetJobAsync(failing))?.State == JobState.Failed, 60, "one job completes, the other fails for good");
        await TestExtensions.EventuallyAsync(() =>
        {
            tracer.ForceFlush();
            return Task.FromResult(ProcessSpans(spans, ok).Length == 1 && ProcessSpans(spans, failing).Length == 2);
        }, 60, "the three attempts' consumer spans are exported");

        // Tracing: the producer spans, children of the application's span.
        var okPush = PushSpan(spans, ok);
        var failingPush = PushSpan(spans, failing);
        foreach (var (push, id) in new[] { (okPush, ok), (failingPush, failing) })
        {
            Assert.Equal("send test.value", push.DisplayName);
            Assert.Equal(ActivityKind.Producer, push.Kind);
            Assert.Equal(requestTrace, push.TraceId.ToHexString());
            Assert.Equal(requestSpan, push.ParentSpanId.ToHexString());
            AssertTags(push, ("messaging.system", "jobs.sdk"), ("messaging.operation.type", "send"), ("messaging.operation.name", "send"),
                ("messaging.destination.name", queueName), ("messaging.message.id", id.ToString()), ("jobs.job.name", "test.value"));
            Assert.Equal(ActivityStatusCode.Unset, push.Status);
        }

        // The attempts: new traces, each linked to its push, the handler inside.
        var completed = Assert.Single(ProcessSpans(spans, ok));
        var attempts = ProcessSpans(spans, failing).OrderBy(s => Convert.ToInt32(s.GetTagItem("jobs.job.attempt"))).ToArray();
        foreach (var (process, push, id, attempt, outcome) in new[]
            { (completed, okPush, ok, 1, "completed"), (attempts[0], failingPush, failing, 1, "retried"), (attempts[1], failingPush, failing, 2, "failed") })
        {
            var what = $"the consumer span of {id}'s attempt {attempt}";
            Assert.Equal("process test.value", process.DisplayName);
            Assert.Equal(ActivityKind.Consumer, process.Kind);
            Assert.True(process.ParentSpanId == default, $"{what} has a parent ({process.ParentSpanId}): README says it starts a new trace");
            Assert.NotEqual(push.TraceId, process.TraceId);
            var link = Assert.Single(process.Links);
            Assert.Equal((push.TraceId, push.SpanId), (link.Context.TraceId, link.Context.SpanId));
            AssertTags(process, ("messaging.system", "jobs.sdk"), ("messaging.operation.type", "process"), ("messaging.operation.name", "process"),
                ("messaging.destination.name", queueName), ("messaging.message.id", id.ToString()), ("jobs.job.name", "test.value"),
                ("jobs.job.attempt", attempt), ("jobs.job.outcome", outcome));
            Assert.Contains(handlerSpans.Snapshot(), h => h.Attempt == attempt && h.SpanId == process.SpanId.ToHexString()
                && h.Value == (id == ok ? 1 : -1));
        }

        Assert.Equal(ActivityStatusCode.Unset, completed.Status);
        foreach (var failed in attempts)
        {
            Assert.Equal(ActivityStatusCode.Error, failed.Status);
            Assert.Equal(typeof(InvalidOperationException).FullName, failed.GetTagItem("error.type"));
            var exception = Assert.Single(failed.Events, e => e.Name == "exception");
            var fields = exception.Tags.ToDictionary(t => t.Key, t => t.Value);
            Assert.Equal(typeof(InvalidOperationException).FullName, fields["exception.type"]);
            Assert.Equal("job -1 fails on purpose", fields["exception.message"]);
            Assert.Contains(nameof(InvalidOperationException), Assert.IsType<string>(fields["exception.stacktrace"]), StringComparison.Ordinal);
        }

        // Metrics: the counters and histograms of this queue, then the state gauge once its sample counts the two jobs.
        var exported = Collect(meter, metrics);
        var name = ("jobs.job.name", (object)"test.value");
        var queueTag = ("messaging.destination.name", (object)queueName);
        var schema = ("jobs.schema", (object)Schema);
        var error = ("error.type", (object)typeof(InvalidOperationException).FullName!);
        AssertCounter(exported, "jobs.pushed", "{job}", queueName, 2, name, queueTag, schema);
        AssertCounter(exported, "jobs.completed", "{job}", queueName, 1, name, queueTag, schema);
        AssertCounter(exported, "jobs.retried", "{attempt}", queueName, 1, name, queueTag, schema, error);
        AssertCounter(exported, "jobs.failed", "{job}", queueName, 1, name, queueTag, schema, error);
        AssertHistogram(exported, "jobs.execution.duration", queueName, ("completed", 1), ("retried", 1), ("failed", 1));
        AssertHistogram(exported, "jobs.queue.wait", queueName, (null, 3));

        IReadOnlyDictionary<string, long>? counts = null;
        await TestExtensions.EventuallyAsync(() =>
        {
            counts = StateCounts(Collect(meter, metrics), queueName);
            return Task.FromResult(counts is not null && counts.GetValueOrDefault("completed") == 1 && counts.GetValueOrDefault("failed") == 1);
        }, 60, "jobs.state.count reports the completed and the failed job");
        Assert.Equal(["cancelled", "completed", "failed", "paused", "pending", "processing", "retrying"], counts!.Keys.Order(StringComparer.Ordinal));
        Assert.All(counts.Where(c => c.Key is not ("completed" or "failed")), c => Assert.Equal(0, c.Value));

        await host.StopAsync();
    }

    /// <summary>
    /// README: one producer span for a <c>PushManyAsync</c> batch, with <c>messaging.batch.message_count</c> (no message id),
    /// which each of its jobs' attempts links to; <c>jobs.pushed</c> counts every job stored.
    /// </summary>
    [Fact]
    public async Task A_batch_push_exports_one_producer_span_that_each_of_its_jobs_attempts_links_to()
    {
        await using var dataSource = fixture.CreateDataSource();
        var queueName = "otelbatch_" + Guid.NewGuid().ToString("N")[..8];
        var spans = new LockedCollection<Activity>();
        var metrics = new LockedCollection<MetricSnapshot>();
        using var host = CreateHost(dataSource, queueName, spans, metrics, (_, _) => Task.CompletedTask);
        await host.StartAsync();
        var tracer = host.Services.GetRequiredService<TracerProvider>();
        var queue = host.Services.GetRequiredService<JobQueue>();

        IReadOnlyList<JobId> ids;
        string requestSpan;
        using (var request = Application.StartActivity("import"))
        {
            requestSpan = request!.SpanId.ToHexString();
            ids = await queue.PushManyAsync([new ValueJob(4), new ValueJob(5), new ValueJob(6)]);
        }

        await TestExtensions.EventuallyAsync(() =>
        {
            tracer.ForceFlush();
            return Task.FromResult(ids.All(id => ProcessSpans(spans, id).Length == 1));
        }, 60, "the three jobs' consumer spans are exported");

        var push = Assert.Single(spans.Snapshot(), s => s.Kind == ActivityKind.Producer && s.GetTagItem("messaging.destination.name") as string == queueName);
        Assert.Equal("send test.value", push.DisplayName);
        Assert.Equal(requestSpan, push.ParentSpanId.ToHexString());
        AssertTags(push, ("messaging.batch.message_count", 3), ("messaging.destination.name", queueName), ("jobs.job.name", "test.value"));
        Assert.Null(push.GetTagItem("messaging.message.id"));
        Assert.All(ids, id =>
        {
            var link = Assert.Single(Assert.Single(ProcessSpans(spans, id)).Links);
            Assert.Equal((push.TraceId, push.SpanId), (link.Context.TraceId, link.Context.SpanId));
        });
        AssertCounter(Collect(host.Services.GetRequiredService<MeterProvider>(), metrics), "jobs.pushed", "{job}", queueName, 3,
            ("jobs.job.name", "test.value"), ("messaging.destination.name", queueName), ("jobs.schema", Schema));
        await host.StopAsync();
    }

    /// <summary>
    /// README: "A sampled push stores its W3C trace context with the job … Unsampled pushes store nothing." A request whose
    /// upstream caller did not sample its trace (<c>traceparent</c> flags 00) is not sampled by the SDK's default sampler
    /// (parent-based), and neither is the push it makes; the SDK still creates that push's span, unrecorded, to propagate the
    /// decision. Its context must not be stored: no <c>traceparent</c> in the job's headers (the dashboard would show a
    /// trace id no backend has), and the attempt's span, a new trace, links to no span that was never exported.
    /// </summary>
    [Fact]
    public async Task An_unsampled_push_under_the_OpenTelemetry_SDK_stores_no_trace_context()
    {
        await using var dataSource = fixture.CreateDataSource();
        var queueName = "otelunsampled_" + Guid.NewGuid().ToString("N")[..8];
        var spans = new LockedCollection<Activity>();
        var metrics = new LockedCollection<MetricSnapshot>();
        var seen = new TaskCompletionSource<IReadOnlyDictionary<string, string>>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var host = CreateHost(dataSource, queueName, spans, metrics, (_, context) =>
        {
            seen.TrySetResult(context.Headers);
            return Task.CompletedTask;
        });
        await host.StartAsync();
        var tracer = host.Services.GetRequiredService<TracerProvider>();
        var queue = host.Services.GetRequiredService<JobQueue>();

        var upstream = new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.None, isRemote: true);
        JobId id;
        using (var request = Application.StartActivity("checkout", ActivityKind.Server, upstream))
        {
            Assert.True(request is { Recorded: false }, "the request of an unsampled upstream trace is not sampled by the SDK");
            id = await queue.PushAsync(new ValueJob(2));
        }

        var headers = await seen.Task.WaitAsync(TimeSpan.FromSeconds(60));
        await TestExtensions.EventuallyAsync(() =>
        {
            tracer.ForceFlush();
            return Task.FromResult(ProcessSpans(spans, id).Length == 1);
        }, 60, "the attempt's consumer span is exported");

        Assert.True(!headers.ContainsKey(JobHeaders.TraceParent) && !headers.ContainsKey(JobHeaders.TraceState),
            $"an unsampled push stored a trace context with job {id}: {string.Join(", ", headers.Select(h => $"{h.Key}={h.Value}"))}");
        Assert.DoesNotContain(spans.Snapshot(), s => s.Kind == ActivityKind.Producer && s.GetTagItem("messaging.message.id") as string == id.ToString());
        var process = Assert.Single(ProcessSpans(spans, id));
        Assert.True(process.Links.Count() == 0,
            $"the attempt's span links to {string.Join(", ", process.Links.Select(l => $"{l.Context.TraceId}/{l.Context.SpanId} ({l.Context.TraceFlags})"))}, a span never exported");
        await host.StopAsync();
    }

    /// <summary>
    /// The same promise when the push starts a trace (a background service, a scheduled push) whose sampler says no: an
    /// operator sets <c>OTEL_TRACES_SAMPLER</c> (here <c>always_off</c>, through the host's configuration as the environment
    /// would), which README's setup reads. The SDK creates the unsampled root span, unrecorded, for propagation; its
    /// context must not be stored with the job.
    /// </summary>
    [Fact]
    public async Task A_push_the_configured_sampler_drops_stores_no_trace_context()
    {
        await using var dataSource = fixture.CreateDataSource();
        var queueName = "oteldropped_" + Guid.NewGuid().ToString("N")[..8];
        var spans = new LockedCollection<Activity>();
        var metrics = new LockedCollection<MetricSnapshot>();
        var seen = new TaskCompletionSource<IReadOnlyDictionary<string, string>>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var host = CreateHost(dataSource, queueName, spans, metrics, (_, context) =>
        {
            seen.TrySetResult(context.Headers);
            return Task.CompletedTask;
        }, builder => builder.Configuration["OTEL_TRACES_SAMPLER"] = "always_off");
        await host.StartAsync();
        var queue = host.Services.GetRequiredService<JobQueue>();

        Assert.Null(Activity.Current);
        var id = await queue.PushAsync(new ValueJob(3));
        var headers = await seen.Task.WaitAsync(TimeSpan.FromSeconds(60));
        var details = await host.Services.GetRequiredService<JobAdmin>().GetJobAsync(id);

        Assert.True(!headers.ContainsKey(JobHeaders.TraceParent) && details is { TraceId: null },
            $"a push the sampler dropped stored a trace context with job {id}: {string.Join(", ", headers.Select(h => $"{h.Key}={h.Value}"))} "
            + $"(JobAdmin's trace id: {details?.TraceId})");
        host.Services.GetRequiredService<TracerProvider>().ForceFlush();
        Assert.DoesNotContain(spans.Snapshot(), s => s.Source.Name == JobsDiagnostics.ActivitySourceName && s.GetTagItem("messaging.destination.name") as string == queueName);
        await host.StopAsync();
    }

    /// <summary>
    /// README "Metrics", Cardinality: <c>jobs.state.count</c> reports 7 series for each queue a process uses, the queues it
    /// only pushes to included ("a producer that pushes to one queue per tenant reports 7,000 series for 1,000 tenants").
    /// The SDK keeps at most 2,000 series of an instrument unless a view says otherwise and folds the rest into one series
    /// tagged <c>otel.metric.overflow</c>: a producer of 300 queues (2,100 series) set up as README shows, with the view
    /// README gives for more than 285 queues (<c>readme-opentelemetry-limit</c>), exports each queue's 7 counts.
    /// </summary>
    [Fact]
    public async Task Readmes_OpenTelemetry_setup_exports_the_state_counts_of_each_of_300_queues_a_producer_pushes_to()
    {
        const int tenants = 300;
        await using var dataSource = fixture.CreateDataSource();
        var prefix = "oteltenant_" + Guid.NewGuid().ToString("N")[..8] + "_";
        var spans = new LockedCollection<Activity>();
        var metrics = new LockedCollection<MetricSnapshot>();
        using var host = CreateHost(dataSource, prefix + "home", spans, metrics, (_, _) => Task.CompletedTask,
            ReadmeSnippets.Observability.OpenTelemetryLimit.Configure);
        await host.StartAsync();
        var meter = host.Services.GetRequiredService<MeterProvider>();
        var queue = host.Services.GetRequiredService<JobQueue>();
        var queues = Enumerable.Range(0, tenants).Select(i => $"{prefix}{i:D3}").ToArray();
        foreach (var tenant in queues)
        {
            await queue.PushAsync(new ValueJob(1), new JobOptions { Queue = tenant });
        }

        // Until every queue reports its pending job, or the SDK folded series into its overflow series.
        string[] missing = queues;
        long? overflow = null;
        await TestExtensions.EventuallyAsync(() =>
        {
            var exported = Collect(meter, metrics);
            if (!exported.TryGetValue("jobs.state.count", out var gauge))
            {
                return Task.FromResult(false);
            }

            var pending = new HashSet<string>(StringComparer.Ordinal);
            foreach (var point in gauge.MetricPoints)
            {
                var tags = new Dictionary<string, object?>(StringComparer.Ordinal);
                foreach (var tag in point.Tags)
                {
                    tags[tag.Key] = tag.Value;
                }

                if (tags.ContainsKey("otel.metric.overflow"))
                {
                    overflow = point.GetGaugeLastValueLong();
                }
                else if (tags.GetValueOrDefault("messaging.destination.name") is string name && name.StartsWith(prefix, StringComparison.Ordinal)
                    && Equals(tags.GetValueOrDefault("jobs.job.state"), "pending") && point.GetGaugeLastValueLong() == 1)
                {
                    pending.Add(name);
                }
            }

            missing = queues.Where(q => !pending.Contains(q)).ToArray();
            return Task.FromResult(missing.Length == 0 || overflow is not null);
        }, 120, "jobs.state.count reports every queue's pending job, or the SDK's overflow series");

        Assert.True(missing.Length == 0 && overflow is null,
            $"README's OpenTelemetry setup (with its view for more than 285 queues) exported jobs.state.count for {tenants - missing.Length} of the {tenants} queues a producer pushes to "
            + $"({tenants * 7:N0} series): {missing.Length} queue(s) missing ({string.Join(", ", missing.Take(3))}, …), "
            + (overflow is null ? "no overflow series" : $"the SDK's otel.metric.overflow series reports {overflow}"));
        await host.StopAsync();
    }
}
