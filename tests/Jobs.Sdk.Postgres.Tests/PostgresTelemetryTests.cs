using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>The documented spans and instruments, through PostgreSQL (the trace context stored with the job and read back).</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresTelemetryTests(PostgresFixture fixture)
{
    /// <summary>
    /// README "Tracing": a sampled push stores its W3C context with the job; the attempt's consumer span starts a new trace
    /// linked to the push span, the handler runs inside it, and it carries the documented tags; README "Metrics":
    /// <c>jobs.pushed</c> and <c>jobs.completed</c> count it with the name and queue tags.
    /// </summary>
    [Fact]
    public async Task A_push_links_its_attempt_through_the_stored_trace_context_and_both_are_counted()
    {
        var spans = new ConcurrentQueue<Activity>();
        using var activities = new ActivityListener
        {
            ShouldListenTo = s => s.Name == JobsDiagnostics.ActivitySourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Enqueue,
        };
        ActivitySource.AddActivityListener(activities);
        var measurements = new ConcurrentQueue<(string Instrument, long Value, Dictionary<string, object?> Tags)>();
        using var meters = new MeterListener();
        meters.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == JobsDiagnostics.MeterName)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        meters.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            var map = new Dictionary<string, object?>();
            foreach (var tag in tags)
            {
                map[tag.Key] = tag.Value;
            }

            measurements.Enqueue((instrument.Name, value, map));
        });
        meters.Start();

        Activity? inHandler = null;
        var ran = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>((_, _, _) =>
        {
            inHandler = Activity.Current;
            ran.TrySetResult();
            return Task.CompletedTask;
        }), driver: o => o.Retention = new RetentionPolicy { CompletedJobs = Retain.Yes });
        var queueName = q.Driver.QueueName;

        JobId id;
        using (var request = new Activity("request").SetIdFormat(ActivityIdFormat.W3C).Start())
        {
            id = await q.Queue.PushAsync(new ValueJob(7));
        }

        var push = spans.Single(s => s.OperationName == "send test.value" && (string?)s.GetTagItem("messaging.destination.name") == queueName);
        await q.StartAsync();
        await ran.Task.WaitAsync(TimeSpan.FromSeconds(60));
        await TestExtensions.EventuallyAsync(async () => (await q.Queue.GetJobAsync(id))?.State == JobState.Completed, 60, "the job completes");
        await TestExtensions.EventuallyAsync(() => Task.FromResult(spans.Any(s => s.OperationName == "process test.value" && s.GetTagItem("messaging.message.id") as string == id.ToString())),
            60, "the process span ends");
        var process = spans.Single(s => s.OperationName == "process test.value" && s.GetTagItem("messaging.message.id") as string == id.ToString());

        Assert.Equal(ActivityKind.Producer, push.Kind);
        Assert.Equal(ActivityKind.Consumer, process.Kind);
        Assert.NotEqual(push.TraceId, process.TraceId);
        var link = Assert.Single(process.Links);
        Assert.Equal(push.TraceId, link.Context.TraceId);
        Assert.Equal(push.SpanId, link.Context.SpanId);
        Assert.Same(process, inHandler);
        Assert.Equal("jobs.sdk", process.GetTagItem("messaging.system"));
        Assert.Equal("process", process.GetTagItem("messaging.operation.type"));
        Assert.Equal(queueName, process.GetTagItem("messaging.destination.name"));
        Assert.Equal("test.value", process.GetTagItem("jobs.job.name"));
        Assert.Equal(1, process.GetTagItem("jobs.job.attempt"));
        Assert.Equal("completed", process.GetTagItem("jobs.job.outcome"));

        bool Counted(string instrument) => measurements.Any(m => m.Instrument == instrument && m.Value == 1
            && (string?)m.Tags.GetValueOrDefault("jobs.job.name") == "test.value" && (string?)m.Tags.GetValueOrDefault("messaging.destination.name") == queueName);
        Assert.True(Counted("jobs.pushed"), "jobs.pushed was not recorded with the name and queue tags");
        Assert.True(Counted("jobs.completed"), "jobs.completed was not recorded with the name and queue tags");
    }

    /// <summary>
    /// The trace state is whatever the caller's context carries (a message consumer copies it from a header it received): one
    /// no store can hold must not fail the push. It used to: PostgreSQL answered 22P05 "unsupported Unicode escape sequence"
    /// for the headers' jsonb. W3C Trace Context allows only printable ASCII there and asks to drop an invalid trace state.
    /// </summary>
    [Theory]
    [InlineData("NUL")]
    [InlineData("non-ASCII")]
    public async Task A_push_whose_trace_state_no_store_can_hold_is_stored_with_its_trace_parent_and_without_the_trace_state(string kind)
    {
        using var activities = new ActivityListener
        {
            ShouldListenTo = s => s.Name == JobsDiagnostics.ActivitySourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(activities);
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>((_, _, _) => Task.CompletedTask));

        JobId id, valid;
        using (var request = new Activity("request").SetIdFormat(ActivityIdFormat.W3C).Start())
        {
            request.TraceStateString = kind == "NUL" ? "vendor=a\0b" : "vendor=caf\u00e9,other=\uD800";
            id = await q.Queue.PushAsync(new ValueJob(1));
            request.TraceStateString = "vendor=abc, other=x y";
            valid = await q.Queue.PushAsync(new ValueJob(2));
        }

        var headers = (await q.Services.GetRequiredService<JobAdmin>().GetJobAsync(id))!.Headers;
        Assert.True(headers.ContainsKey(JobHeaders.TraceParent), "the trace parent is stored");
        Assert.False(headers.ContainsKey(JobHeaders.TraceState), "an invalid trace state is dropped: " + headers.GetValueOrDefault(JobHeaders.TraceState));
        var kept = (await q.Services.GetRequiredService<JobAdmin>().GetJobAsync(valid))!.Headers;
        Assert.Equal("vendor=abc, other=x y", kept[JobHeaders.TraceState]);
    }
}
