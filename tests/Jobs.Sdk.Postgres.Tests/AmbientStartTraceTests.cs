using System.Collections.Concurrent;
using System.Diagnostics;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// An app that traces its start-up (a span around <c>host.StartAsync()</c>, or a worker started from a traced request)
/// starts the worker and the scheduler inside that span. Their loops are the process's own work: with Npgsql's tracing on
/// (OpenTelemetry's <c>AddNpgsql</c>) their statements must not become children of that span, and README "Tracing" makes
/// each scheduled push a root span.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class AmbientStartTraceTests(PostgresFixture fixture)
{
    /// <summary>
    /// The worker starts inside a start-up span that then ends; a job pushed afterwards is claimed, run and completed. No
    /// statement the worker runs after its start belongs to the start-up trace; they all did (claims, renewals, outcome
    /// writes: the loops kept the span they were started in as the parent of everything, for the process's life).
    /// </summary>
    [Fact]
    public async Task A_worker_started_inside_a_span_runs_its_loops_outside_that_trace()
    {
        var afterStart = 0;
        var statements = new ConcurrentQueue<(ActivityTraceId TraceId, bool AfterStart)>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == "Npgsql",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStarted = a => statements.Enqueue((a.TraceId, Volatile.Read(ref afterStart) != 0)),
        };
        ActivitySource.AddActivityListener(listener);
        var ran = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>((_, _, _) =>
        {
            ran.TrySetResult();
            return Task.CompletedTask;
        }));

        ActivityTraceId startup;
        using (var span = new Activity("startup").SetIdFormat(ActivityIdFormat.W3C).Start())
        {
            startup = span.TraceId;
            await q.StartAsync();
        }

        Volatile.Write(ref afterStart, 1);
        var id = await q.Queue.PushAsync(new ValueJob(1));
        await ran.Task.WaitAsync(TimeSpan.FromSeconds(60));
        await TestExtensions.EventuallyAsync(async () => (await q.Queue.GetJobAsync(id)) is null or { State: JobState.Completed }, 60, "the outcome is written");
        await q.StopAsync();

        var after = statements.Where(s => s.AfterStart).ToArray();
        Assert.NotEmpty(after);
        var inStartup = after.Count(s => s.TraceId == startup);
        Assert.True(inStartup == 0, $"{inStartup} of the {after.Length} statements run after the start belong to the start-up trace");
    }

    /// <summary>
    /// The scheduler starts inside a start-up span that then ends; its next fire's push is a root span (README "Tracing"). It
    /// was a child of the start-up span.
    /// </summary>
    [Fact]
    public async Task A_scheduler_started_inside_a_span_pushes_root_spans()
    {
        var queueName = "ambient_" + Guid.NewGuid().ToString("N")[..8];
        using var spans = new ActivityCollector(queueName);
        var start = new DateTimeOffset(2031, 3, 1, 10, 0, 30, TimeSpan.Zero);
        await using var node = PostgresSchedulerNode.Create(fixture, "jobs_test", queueName, start,
            s => s.Add(new ValueJob(1), Schedule.EveryMinute(), key: "every-minute"));

        ActivityTraceId startup;
        using (var span = new Activity("startup").SetIdFormat(ActivityIdFormat.W3C).Start())
        {
            startup = span.TraceId;
            await node.StartAsync();
        }

        await node.SettledAsync();
        node.Time.Advance(TimeSpan.FromMinutes(1));
        await node.Probe.WhenAsync(() => node.Probe.PushedCount("every-minute") == 1, "the fire is pushed");

        var send = Assert.Single(spans.Spans, s => s.Kind == ActivityKind.Producer);
        Assert.NotEqual(startup, send.TraceId);
        Assert.Equal(default, send.ParentSpanId);
    }
}
