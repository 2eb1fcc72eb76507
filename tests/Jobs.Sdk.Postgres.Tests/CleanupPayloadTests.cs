namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// A cleanup job's payload (its <see cref="CleanupOptions"/>) is written by the scheduler of whichever version fired it, and
/// during a rolling deploy an older worker may run it. An action it cannot read completely must fail the cleanup job with a
/// decode error, never run as a wider action: a qualifier it skipped (a limit, an age in another form) would delete jobs the
/// newer version meant to keep.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class CleanupPayloadTests(PostgresFixture fixture)
{
    [Theory]
    [InlineData("""{"completed": {"action": "remove", "maxAge": 86400}}""", "maxAge")]
    [InlineData("""{"completed": {"action": "remove", "maxAge": null}}""", "maxAge")]
    [InlineData("""{"completed": {"action": "remove", "maxAge": "00:00:00", "keepLast": 100}}""", "keepLast")]
    [InlineData("""{"completed": {"action": "rerun", "maxAge": "1.00:00:00"}}""", "maxAge")]
    public async Task A_cleanup_action_with_a_member_this_version_cannot_read_fails_the_cleanup_instead_of_acting_on_every_job(string payload, string member)
    {
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>((_, _, _) => Task.CompletedTask).AddSchedule(_ => { }),
            driver: o => o.Retention = RunningJobToRemove.KeepEverything);
        await q.StartAsync();
        var kept = await q.Queue.PushAsync(new ValueJob(1));
        await TestExtensions.EventuallyAsync(async () => (await q.Queue.GetJobAsync(kept))?.State == JobState.Completed, 60, "the job completes and is retained");

        // The row a newer version's scheduler would insert for its cleanup entry.
        var cleanup = Guid.CreateVersion7();
        await q.DataSource.ExecAsync(
            $"INSERT INTO jobs_test.jobs (id, queue_name, name, payload, max_attempts) VALUES ('{cleanup}', '{q.Queue.QueueName}', 'jobs.cleanup:{q.Queue.QueueName}', '{payload}', 1)");
        await TestExtensions.EventuallyAsync(async () => (await q.Queue.GetJobAsync(new JobId(cleanup)))?.State is JobState.Completed or JobState.Failed, 60,
            "the cleanup job ends");

        var info = (await q.Queue.GetJobAsync(new JobId(cleanup)))!;
        var job = await q.Queue.GetJobAsync(kept);
        Assert.True(info.State == JobState.Failed && job?.State == JobState.Completed,
            $"The cleanup job with {payload} ended {info.State} ({info.LastError ?? "no error"}) and the completed job is {job?.State.ToString() ?? "deleted"}; " +
            "expected the cleanup to fail with a decode error and the completed job to be kept.");
        Assert.StartsWith("Jobs.Sdk.JobDecodeException: Cannot decode job 'jobs.cleanup' member 'completed'", info.LastError, StringComparison.Ordinal);
        Assert.Contains($"'{member}'", info.LastError, StringComparison.Ordinal);
        Assert.Equal(1, info.Attempts);
    }
}
