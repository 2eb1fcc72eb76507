using Microsoft.Extensions.DependencyInjection;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// An operator's retry (or a cleanup pass that reruns cancelled jobs) of a finished unique job that released its key races
/// a push of that key: the promise is one job of the key in line, and the retry reports only jobs it put back. The push runs in a caller's transaction the test holds
/// open after its insert, so the retry reaches the key while the pushed job is not yet committed (it waits for it on the
/// unique index), deterministically.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class AdminRetryUniqueRaceTests(PostgresFixture fixture)
{
    private const string WaitingOnTransaction = "SELECT count(*) FROM pg_locks WHERE locktype = 'transactionid' AND NOT granted";

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_retry_of_a_finished_unique_job_racing_a_push_of_its_key_leaves_it_finished_and_reports_nothing_changed(bool cleanupRerun)
    {
        await using var q = await TestQueue.CreateAsync(fixture, jobs => jobs.AddJob<UniqueAccountJob>((_, _, _) => Task.CompletedTask),
            driver: o => o.Retention = new RetentionPolicy { CancelledJobs = Retain.Yes });
        var admin = q.Services.GetRequiredService<JobAdmin>();
        await using var direct = fixture.CreateDataSource();
        var account = Guid.NewGuid();

        // A cancelled unique job whose key the next push released (it remembers it), and that push's job deleted since:
        // the key is free, so a retry would give it back to the cancelled job.
        var finished = await q.Queue.PushAsync(new UniqueAccountJob(account, 1));
        Assert.Equal(1, await admin.CancelAsync(JobSelection.Ids(finished)));
        var next = await q.Queue.TryPushAsync(new UniqueAccountJob(account, 2));
        Assert.True(next.Inserted);
        Assert.Equal(1, await admin.DeleteAsync(JobSelection.Ids(next.Id)));

        // A push of the key in a transaction not yet committed; the retry then reaches the key and waits for it.
        await using var connection = await direct.OpenConnectionAsync();
        await using var pushing = await connection.BeginTransactionAsync();
        var pushed = await q.Queue.TryPushAsync(new UniqueAccountJob(account, 3), pushing);
        Assert.True(pushed.Inserted);
        var retry = cleanupRerun
            ? CleanupRerunAsync(q.Queue)
            : admin.RetryAsync(JobSelection.Ids(finished));
        await TestExtensions.EventuallyAsync(async () => await direct.ScalarAsync(WaitingOnTransaction) > 0 || retry.IsCompleted,
            what: "the retry waits for the uncommitted push of the key");
        await pushing.CommitAsync();

        // The pushed job holds the key: the retry leaves the cancelled job as it was, as a push of the key stores nothing.
        var thrown = await Record.ExceptionAsync(() => retry.WaitAsync(TimeSpan.FromMinutes(1)));
        Assert.True(thrown is null, $"The retry threw {thrown?.GetType().Name}: {thrown?.Message}");
        Assert.Equal(0, await retry);
        Assert.Equal(JobState.Cancelled, (await admin.GetJobAsync(finished))!.State);
        Assert.Equal(JobState.Pending, (await admin.GetJobAsync(pushed.Id))!.State);
        Assert.Equal(1, await direct.ScalarAsync(
            $"SELECT count(*) FROM jobs_test.jobs WHERE queue_name = '{q.Driver.QueueName}' AND state IN (0, 1, 2, 6)"));
        Assert.Equal(new JobPushResult(pushed.Id, false), await q.Queue.TryPushAsync(new UniqueAccountJob(account, 4)));
    }

    /// <summary>A cleanup pass that puts cancelled jobs back; returns 0 (a rerun removes nothing), as a retry that put none back.</summary>
    private static async Task<int> CleanupRerunAsync(JobQueue queue)
    {
        await queue.CleanupAsync(queue.QueueName, new CleanupOptions { CancelledJobs = CleanupAction.Rerun });
        return 0;
    }
}
