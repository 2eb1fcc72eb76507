namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// Batches larger than the server's shared lock table (<c>max_locks_per_transaction</c> × (<c>max_connections</c> +
/// <c>max_prepared_transactions</c>) entries, 6,400 on a default server, shared by every session): a push that took one
/// lock per job of its batch, held to its commit, failed with "out of shared memory" however the server was tuned for
/// its own workload, and starved every other session of locks while it ran.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class LockTableLimitTests(PostgresFixture fixture)
{
    /// <summary>The entries of the server's shared lock table (before the slack PostgreSQL adds).</summary>
    private const string LockTableEntries =
        "SELECT current_setting('max_locks_per_transaction')::bigint * (current_setting('max_connections')::bigint + current_setting('max_prepared_transactions')::bigint)";

    [Fact]
    public async Task A_unique_batch_of_more_keys_than_the_lock_table_holds_is_stored_whole()
    {
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<UniqueAccountJob>((_, _, _) => Task.CompletedTask));
        var size = (int)(await q.DataSource.ScalarAsync(LockTableEntries) * 2);
        var accounts = Enumerable.Range(0, size).Select(_ => Guid.NewGuid()).ToArray();

        // One account twice: the batch stores it once, and both get that job's id.
        var results = await q.Queue.TryPushManyAsync([.. accounts.Select((a, i) => new UniqueAccountJob(a, i)), new UniqueAccountJob(accounts[0], -1)]);

        Assert.Equal(size, results.Count(r => r.Inserted));
        Assert.False(results[^1].Inserted);
        Assert.Equal(results[0].Id, results[^1].Id);
        Assert.Equal(size, await q.DataSource.ScalarAsync($"SELECT count(*) FROM jobs_test.jobs WHERE queue_name = '{q.Queue.QueueName}'"));
    }
}
