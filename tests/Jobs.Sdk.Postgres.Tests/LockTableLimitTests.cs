using Jobs.Sdk.Testing;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// Batches larger than what is free of the server's shared lock table (<c>max_locks_per_transaction</c> ×
/// (<c>max_connections</c> + background processes) entries and some slack, 6,400 and more on a default server, shared by
/// every session): a push that took one lock per job of its batch, held to its commit, failed with "out of shared memory".
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class LockTableLimitTests(PostgresFixture fixture)
{
    [Fact]
    public async Task A_unique_batch_of_more_keys_than_the_lock_table_has_free_is_stored_whole()
    {
        // A server of its own, whose lock table other sessions fill but for 2,000 to 3,000 entries.
        await using var cluster = await LocalPostgresCluster.StartAsync();
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<UniqueAccountJob>((_, _, _) => Task.CompletedTask),
            dataSource: PostgresJobsBuilderExtensions.CreateDataSource(cluster.ConnectionString));
        await using (await CrowdedLockTable.FillAsync(cluster.ConnectionString))
        {
            // One account twice: the batch stores it once, and both get that job's id.
            const int size = 5 * CrowdedLockTable.Chunk;
            var accounts = Enumerable.Range(0, size).Select(_ => Guid.NewGuid()).ToArray();
            var results = await q.Queue.TryPushManyAsync([.. accounts.Select((a, i) => new UniqueAccountJob(a, i)), new UniqueAccountJob(accounts[0], -1)]);

            Assert.Equal(size, results.Count(r => r.Inserted));
            Assert.False(results[^1].Inserted);
            Assert.Equal(results[0].Id, results[^1].Id);
            Assert.Equal(size, await q.DataSource.ScalarAsync($"SELECT count(*) FROM jobs_test.jobs WHERE queue_name = '{q.Queue.QueueName}'"));
        }
    }

    [Fact]
    public async Task A_unique_batch_of_more_concurrency_keys_than_the_lock_table_has_free_is_stored_whole()
    {
        await using var cluster = await LocalPostgresCluster.StartAsync();
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<UniqueKeyedAccountJob>((_, _, _) => Task.CompletedTask),
            dataSource: PostgresJobsBuilderExtensions.CreateDataSource(cluster.ConnectionString));
        await using (await CrowdedLockTable.FillAsync(cluster.ConnectionString))
        {
            // One job per concurrency key (N = key * 1000), each with a unique key of its own: each takes a place in its key's line.
            const int size = 5 * CrowdedLockTable.Chunk;
            var results = await q.Queue.TryPushManyAsync([.. Enumerable.Range(0, size).Select(i => new UniqueKeyedAccountJob(Guid.NewGuid(), i * 1_000))]);

            Assert.Equal(size, results.Count(r => r.Inserted));
            Assert.Equal(size, await q.DataSource.ScalarAsync(
                $"SELECT count(DISTINCT concurrency_key) FROM jobs_test.jobs WHERE queue_name = '{q.Queue.QueueName}' AND key_seq IS NOT NULL"));
        }
    }

    [Fact]
    public async Task A_batch_of_more_concurrency_keys_than_the_lock_table_has_free_is_stored_whole()
    {
        await using var cluster = await LocalPostgresCluster.StartAsync();
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<KeyedRecordJob>((_, _, _) => Task.CompletedTask),
            dataSource: PostgresJobsBuilderExtensions.CreateDataSource(cluster.ConnectionString));
        await using (await CrowdedLockTable.FillAsync(cluster.ConnectionString))
        {
            // One job per key (N = key * 1000): each key's line was empty, so each job is admitted at push.
            const int size = 5 * CrowdedLockTable.Chunk;
            await q.Queue.PushManyAsync(Enumerable.Range(0, size).Select(i => new KeyedRecordJob(i * 1_000)));

            Assert.Equal(size * 1_000_000L + size, await q.DataSource.ScalarAsync(
                "SELECT count(DISTINCT concurrency_key) * 1000000 + count(*) FILTER (WHERE key_admitted = key_seq) " +
                $"FROM jobs_test.jobs WHERE queue_name = '{q.Queue.QueueName}'"));
        }
    }
}
