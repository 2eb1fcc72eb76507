using Jobs.Sdk.Testing;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// An operator's retry of finished keyed jobs (or a cleanup pass that reruns them) gives each a new place in its key's line under the key's locks
/// (<see cref="ConcurrencyKeySql.NewPlace"/>). It took them row by row (a row's bucket shared, then its key), so it could
/// hold a bucket a batch of many keys (<see cref="ConcurrencyKeySql.LockKeys"/>: buckets exclusive, in bucket order) had
/// still to take while waiting for one that batch held: PostgreSQL aborted one of the two (40P01). Sequenced without
/// sleeps: a third transaction holds the lower bucket until the batch and then the retry wait (<c>pg_blocking_pids</c>).
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class KeyedRetryLockOrderTests(PostgresFixture fixture)
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_retry_of_finished_keyed_jobs_does_not_deadlock_with_a_batch_of_many_keys(bool cleanupRerun)
    {
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<KeyedRecordJob>((_, _, _) => Task.CompletedTask));
        var queue = q.Queue.QueueName;

        // Two keys of the batch in different buckets: the retry reads (id order) the one of the higher bucket first.
        var (high, low) = await KeysInTwoBucketsAsync(q.DataSource);
        var first = await q.Queue.PushAsync(new KeyedRecordJob(high * 1_000));
        var second = await q.Queue.PushAsync(new KeyedRecordJob(low * 1_000));
        await q.DataSource.ExecAsync($"UPDATE jobs_test.jobs SET state = {(int)JobState.Failed}, finished_at = now() WHERE queue_name = '{queue}'");

        // A third transaction holds the lower key's bucket exclusively, as a batch of many keys would.
        await using var gate = await q.DataSource.OpenConnectionAsync();
        await using var gateTransaction = await gate.BeginTransactionAsync();
        await using (var hold = new NpgsqlCommand($"SELECT pg_advisory_xact_lock(hashtext('jobs.keys:' || '{queue}'), {await BucketAsync(q.DataSource, low)})", gate))
        {
            await hold.ExecuteNonQueryAsync();
        }

        // The batch waits for the gate at the lower bucket (having taken the buckets below it); then the retry waits too.
        var batch = q.Queue.PushManyAsync(Enumerable.Range(0, BucketedKeyLockTests.Keys).Select(k => new KeyedRecordJob(k * 1_000 + 1)));
        await WaitsAsync(q.DataSource, [gate.ProcessID], batch, "the batch waits for the gate");
        var batchSession = (int)await q.DataSource.ScalarAsync($"SELECT min(pid) FROM pg_stat_activity WHERE {gate.ProcessID} = ANY(pg_blocking_pids(pid))");
        var retry = cleanupRerun ? CleanupRerunAsync(q.Queue) : q.Services.GetRequiredService<JobAdmin>().RetryAsync(JobSelection.Ids(first, second));
        await WaitsAsync(q.DataSource, [gate.ProcessID, batchSession], retry, "the retry waits", sessions: 2);
        await gateTransaction.CommitAsync();

        var failures = new List<string>();
        foreach (var (task, what) in new[] { ((Task)batch, "batch"), (retry, cleanupRerun ? "cleanup rerun" : "retry") })
        {
            try
            {
                await task.WaitAsync(TimeSpan.FromSeconds(60));
            }
            catch (Exception ex) when (ex is not TimeoutException)
            {
                failures.Add($"the {what} failed: {ex.Message}");
            }
        }

        Assert.True(failures.Count == 0, string.Join("; ", failures));
        Assert.Equal(cleanupRerun ? 0 : 2, await retry);
        Assert.Equal(BucketedKeyLockTests.Keys + 2, await q.DataSource.ScalarAsync($"SELECT count(*) FROM jobs_test.jobs WHERE queue_name = '{queue}' AND state = 0"));
    }

    /// <summary>A cleanup pass that puts failed jobs back; returns 0 (a rerun removes nothing).</summary>
    private static async Task<int> CleanupRerunAsync(JobQueue queue)
    {
        await queue.CleanupAsync(queue.QueueName, new CleanupOptions { FailedJobs = CleanupAction.Rerun });
        return 0;
    }

    /// <summary>Two keys (below <see cref="BucketedKeyLockTests.Keys"/>) whose buckets differ: the higher bucket's, then the lower's.</summary>
    private static async Task<(int High, int Low)> KeysInTwoBucketsAsync(NpgsqlDataSource dataSource)
    {
        var a = await BucketAsync(dataSource, 1);
        var b = await BucketAsync(dataSource, 2);
        Assert.NotEqual(a, b);
        return a > b ? (1, 2) : (2, 1);
    }

    /// <summary>The bucket of <see cref="KeyedRecordJob"/>'s key <paramref name="key"/> (as <see cref="ConcurrencyKeySql"/> computes it).</summary>
    private static Task<long> BucketAsync(NpgsqlDataSource dataSource, int key) =>
        dataSource.ScalarAsync($"SELECT (hashtextextended('{KeyedRecordJob.JobName}:{key}', 0) & 1023)::int");

    /// <summary>
    /// Waits until <paramref name="sessions"/> sessions of the server are blocked by any of <paramref name="holders"/>;
    /// <paramref name="waiting"/> must not have ended.
    /// </summary>
    private static async Task WaitsAsync(NpgsqlDataSource dataSource, int[] holders, Task waiting, string what, int sessions = 1)
    {
        await TestExtensions.EventuallyAsync(async () => waiting.IsCompleted || await dataSource.ScalarAsync(
            $"SELECT count(*) FROM pg_stat_activity WHERE pg_blocking_pids(pid) && ARRAY[{string.Join(", ", holders)}]") >= sessions, 60, what);
        Assert.False(waiting.IsCompleted, $"Not waited for: {what}.");
    }
}
