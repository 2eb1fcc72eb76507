using Jobs.Sdk.Drivers;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// A job whose worker died mid-attempt (a poison job that takes its process down, an OOM kill) never reports an outcome:
/// the lease rescue decides it. README "Metrics": <c>jobs.failed</c> counts jobs failed for good, <c>jobs.retried</c> every
/// failed attempt queued again, <c>jobs.cancelled</c> running jobs cancelled by a user; the rescue's decisions are those.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class RescueMetricsTests(PostgresFixture fixture)
{
    private static readonly TimeSpan Minute = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Three running jobs whose worker died: one on its last attempt, one with attempts left, one an operator asked to
    /// cancel. The rescue fails the first, requeues the second and cancels the third, and counts each once, with the
    /// stored error's type. Nothing was counted: a poison job that kills every worker that runs it never showed in
    /// <c>jobs.failed</c>.
    /// </summary>
    [Fact]
    public async Task Jobs_rescued_from_a_dead_worker_are_counted_as_failed_retried_or_cancelled()
    {
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>((_, _, _) => Task.CompletedTask));
        var queueName = q.Driver.QueueName;
        using var metrics = new MetricCollector(queueName);

        var last = await q.Queue.PushAsync(new ValueJob(1), new JobOptions { MaxAttempts = 1 });
        var more = await q.Queue.PushAsync(new ValueJob(2), new JobOptions { MaxAttempts = 3 });
        var cancel = await q.Queue.PushAsync(new ValueJob(3), new JobOptions { MaxAttempts = 3 });
        Assert.Equal(3, (await q.Driver.ClaimAsync(new JobClaimRequest("dead-worker", 10, Minute), CancellationToken.None)).Count);
        await q.DataSource.ExecAsync($"UPDATE jobs_test.jobs SET cancel_requested = true WHERE id = '{cancel.Value}'");
        await q.DataSource.ExecAsync($"UPDATE jobs_test.jobs SET lease_expires_at = now() - interval '1 second' WHERE queue_name = '{queueName}'");

        Assert.Equal(3, await q.Driver.RescueExpiredLeasesAsync(CancellationToken.None));

        Assert.Equal(JobState.Failed, (await q.Queue.GetJobAsync(last))?.State ?? JobState.Failed);
        Assert.Equal(JobState.Retrying, (await q.Queue.GetJobAsync(more))!.State);
        var counted = metrics.Points.Where(p => p.Instrument != JobsDiagnostics.PushedInstrument)
            .Select(p => (p.Instrument, p.Value, Name: p.Tag("jobs.job.name"), Error: p.Tag("error.type"), Schema: p.Tag("jobs.schema")))
            .OrderBy(p => p.Instrument).ToArray();
        Assert.Equal(
            [
                ("jobs.cancelled", 1.0, "test.value", null, "jobs_test"),
                ("jobs.failed", 1.0, "test.value", "Jobs.Sdk.LeaseExpired", "jobs_test"),
                ("jobs.retried", 1.0, "test.value", "Jobs.Sdk.LeaseExpired", "jobs_test"),
            ],
            counted);
    }
}
