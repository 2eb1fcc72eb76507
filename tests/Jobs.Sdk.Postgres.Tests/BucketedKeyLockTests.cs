using Jobs.Sdk.Testing;
using Npgsql;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// A batch of more concurrency keys than <see cref="ConcurrencyKeySql.BucketedAbove"/> locks its keys' buckets, not each
/// key (<see cref="LockTableLimitTests"/>): it must still exclude every other push of its keys until it commits, both
/// ways, so that per key places are handed out in commit order ("runs in push order per key").
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class BucketedKeyLockTests(PostgresFixture fixture)
{
    /// <summary>Keys of the batch: more than <see cref="ConcurrencyKeySql.BucketedAbove"/>.</summary>
    internal const int Keys = 4 * ConcurrencyKeySql.BucketedAbove;

    [Fact]
    public Task A_push_of_a_key_waits_for_an_uncommitted_batch_of_many_keys_that_holds_it() => HeldThenWaitingAsync(
        (q, transaction) => q.Queue.PushManyAsync(Enumerable.Range(0, Keys).Select(k => new KeyedRecordJob(k * 1_000)), transaction),
        q => q.Queue.PushAsync(new KeyedRecordJob(5 * 1_000 + 1)),
        "the push of key 5 waits for the batch");

    [Fact]
    public Task A_batch_of_many_keys_waits_for_an_uncommitted_push_of_one_of_them() => HeldThenWaitingAsync(
        (q, transaction) => q.Queue.PushAsync(new KeyedRecordJob(5 * 1_000), transaction),
        q => q.Queue.PushManyAsync(Enumerable.Range(0, Keys).Select(k => new KeyedRecordJob(k * 1_000 + 1))),
        "the batch waits for the push of key 5");

    [Fact]
    public async Task A_batch_of_many_keys_lines_up_each_keys_jobs_in_the_order_it_lists_them()
    {
        await using var q = await CreateQueueAsync();

        // Three rounds over all keys: key k's jobs are k000, k001, k002, listed in that order, far apart.
        await q.Queue.PushManyAsync(Enumerable.Range(0, 3 * Keys).Select(i => new KeyedRecordJob(i % Keys * 1_000 + i / Keys)));

        Assert.Equal("5000 5001 5002", await LineAsync(q, 5));
        Assert.Equal(Keys, await q.DataSource.ScalarAsync(
            $"SELECT count(*) FROM (SELECT concurrency_key FROM jobs_test.jobs WHERE queue_name = '{q.Queue.QueueName}' GROUP BY concurrency_key " +
            "HAVING array_agg((payload->>'n')::int ORDER BY key_seq) = array_agg((payload->>'n')::int ORDER BY (payload->>'n')::int)) ordered"));
    }

    /// <summary>
    /// <paramref name="held"/> pushes key 5's job 5000 in a transaction left open; <paramref name="waiting"/>, pushing key
    /// 5's job 5001 outside it, must wait for its commit, and then line up behind it.
    /// </summary>
    private async Task HeldThenWaitingAsync(Func<TestQueue, NpgsqlTransaction, Task> held, Func<TestQueue, Task> waiting, string what,
        [System.Runtime.CompilerServices.CallerMemberName] string test = "")
    {
        await using var q = await CreateQueueAsync(test);
        await using var connection = await q.DataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await held(q, transaction);

        var push = waiting(q);
        await WaitsForAsync(q.DataSource, connection.ProcessID, push, what);
        await transaction.CommitAsync();
        await push.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal("5000 5001", await LineAsync(q, 5));
    }

    private Task<TestQueue> CreateQueueAsync([System.Runtime.CompilerServices.CallerMemberName] string test = "") =>
        TestQueue.CreateAsync(fixture, b => b.AddJob<KeyedRecordJob>((_, _, _) => Task.CompletedTask), test: test);

    /// <summary>Waits until a session of the server is blocked by session <paramref name="holder"/>; <paramref name="waiting"/> must not have ended.</summary>
    private static async Task WaitsForAsync(NpgsqlDataSource dataSource, int holder, Task waiting, string what)
    {
        await TestExtensions.EventuallyAsync(async () => waiting.IsCompleted || await dataSource.ScalarAsync(
            $"SELECT count(*) FROM pg_stat_activity WHERE {holder} = ANY(pg_blocking_pids(pid))") > 0, 60, what);
        Assert.False(waiting.IsCompleted, $"Not waited for: {what}.");
    }

    /// <summary>The jobs of key <paramref name="key"/> (their N) in the order of their places.</summary>
    private static async Task<string?> LineAsync(TestQueue q, int key)
    {
        await using var read = q.DataSource.CreateCommand(
            $"SELECT string_agg(payload->>'n', ' ' ORDER BY key_seq) FROM jobs_test.jobs WHERE queue_name = '{q.Queue.QueueName}' AND concurrency_key = 'mp.keyed:{key}'");
        return (string?)await read.ExecuteScalarAsync();
    }
}
