using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// What an SRE reads for a job that fails, one a user cancels while it runs and one that completes, on a real worker: the
/// spans (README "Tracing"), the log levels and event ids (README "Logging"), and that a payload member's value (jobs carry
/// e-mail addresses and tokens) reaches neither a log line nor a span. Passes as written (a guard).
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class JobOutcomeTelemetryTests(PostgresFixture fixture)
{
    private const string Secret = "s3cr3t-token-of-alice@example.com";

    [Fact]
    public async Task Failed_cancelled_and_completed_jobs_trace_and_log_as_documented_without_payload_values()
    {
        var logs = new CapturingLoggerProvider();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var current = new ConcurrentQueue<(int Job, string? SpanJobId, string ExpectedId)>();
        await using var q = await TestQueue.CreateAsync(fixture, b =>
        {
            b.Services.AddLogging(l => l.AddProvider(logs).SetMinimumLevel(LogLevel.Trace));
            b.AddJob<MessageJob>(async (job, context, ct) =>
            {
                current.Enqueue((job.Id, Activity.Current?.GetTagItem("messaging.message.id") as string, context.Id.ToString()));
                switch (job.Id)
                {
                    case 1:
                        throw new InvalidOperationException("boom");
                    case 2:
                        started.TrySetResult();
                        await Task.Delay(Timeout.Infinite, ct);
                        break;
                }
            });
        });
        using var spans = new ActivityCollector(q.Driver.QueueName);

        JobId failing, cancelled, completed;
        using (new Activity("request").SetIdFormat(ActivityIdFormat.W3C).Start())
        {
            failing = await q.Queue.PushAsync(new MessageJob(1, Secret), new JobOptions { MaxAttempts = 2 });
            cancelled = await q.Queue.PushAsync(new MessageJob(2, Secret));
            completed = await q.Queue.PushAsync(new MessageJob(3, Secret));
        }

        await q.StartAsync();
        await started.Task.WaitAsync(TimeSpan.FromSeconds(60));
        await q.Services.GetRequiredService<JobAdmin>().CancelAsync(JobSelection.Ids(cancelled));
        await spans.WaitAsync(s => s.Count(a => a.Kind == ActivityKind.Consumer) == 4);
        await q.StopAsync();

        var process = spans.Spans.Where(s => s.Kind == ActivityKind.Consumer).ToArray();
        var pushes = spans.Spans.Where(s => s.Kind == ActivityKind.Producer).ToDictionary(s => (string)s.GetTagItem("messaging.message.id")!);
        Activity[] Of(JobId id) => process.Where(s => s.GetTagItem("messaging.message.id") as string == id.ToString()).ToArray();
        Assert.All(process, s => Assert.Equal(pushes[(string)s.GetTagItem("messaging.message.id")!].SpanId, Assert.Single(s.Links).Context.SpanId));
        Assert.Equal([("retried", ActivityStatusCode.Error, 1), ("failed", ActivityStatusCode.Error, 2)],
            Of(failing).Select(s => ((string)s.GetTagItem("jobs.job.outcome")!, s.Status, (int)s.GetTagItem("jobs.job.attempt")!)));
        Assert.All(Of(failing), s => Assert.Equal("System.InvalidOperationException", s.GetTagItem("error.type")));
        Assert.Equal(("cancelled", ActivityStatusCode.Unset), Of(cancelled).Select(s => ((string)s.GetTagItem("jobs.job.outcome")!, s.Status)).Single());
        Assert.Equal(("completed", ActivityStatusCode.Unset), Of(completed).Select(s => ((string)s.GetTagItem("jobs.job.outcome")!, s.Status)).Single());

        // Each handler ran inside its own attempt's span, never one of another job.
        Assert.All(current, c => Assert.Equal(c.ExpectedId, c.SpanJobId));

        var entries = logs.Entries.ToArray();
        var jobEntries = entries.Where(e => e.Category.StartsWith("Jobs.Sdk", StringComparison.Ordinal)).ToArray();
        Assert.Equal(LogLevel.Warning, Assert.Single(jobEntries, e => e.EventId.Id == 1101).Level);
        Assert.Equal(LogLevel.Error, Assert.Single(jobEntries, e => e.EventId.Id == 1102).Level);
        Assert.Equal(LogLevel.Information, Assert.Single(jobEntries, e => e.EventId.Id == 1103).Level);
        Assert.Equal([1102], jobEntries.Where(e => e.Level >= LogLevel.Error).Select(e => e.EventId.Id));

        Assert.DoesNotContain(entries, e => e.Message.Contains(Secret, StringComparison.Ordinal)
            || e.State.Values.Concat(e.Scope.Values).Any(v => v?.ToString()?.Contains(Secret, StringComparison.Ordinal) == true));
        Assert.DoesNotContain(spans.Spans, s => s.DisplayName.Contains(Secret, StringComparison.Ordinal) || s.StatusDescription?.Contains(Secret, StringComparison.Ordinal) == true
            || s.TagObjects.Any(t => t.Value?.ToString()?.Contains(Secret, StringComparison.Ordinal) == true)
            || s.Events.Any(e => e.Tags.Any(t => t.Value?.ToString()?.Contains(Secret, StringComparison.Ordinal) == true)));
    }
}
