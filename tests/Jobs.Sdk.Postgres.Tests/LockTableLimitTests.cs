using Npgsql;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// Batches larger than what is free of the server's shared lock table (<c>max_locks_per_transaction</c> ×
/// (<c>max_connections</c> + background processes) entries and some slack, 6,400 and more on a default server, shared by
/// every session): a push that took one lock per job of its batch, held to its commit, failed with "out of shared memory".
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class LockTableLimitTests(PostgresFixture fixture)
{
    /// <summary>Advisory locks the crowding session takes per statement (and gives back per savepoint).</summary>
    private const int Chunk = 1_000;

    [Fact]
    public async Task A_unique_batch_of_more_keys_than_the_lock_table_has_free_is_stored_whole()
    {
        // A server of its own, whose lock table other sessions fill but for 2,000 to 3,000 entries (a busy server, or
        // a batch of 100,000 keys on a default one), so that a batch larger than what is free stays small.
        await using var cluster = await LocalPostgresCluster.StartAsync();
        await using var crowd = PostgresJobsBuilderExtensions.CreateDataSource(cluster.ConnectionString);
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<UniqueAccountJob>((_, _, _) => Task.CompletedTask),
            dataSource: PostgresJobsBuilderExtensions.CreateDataSource(cluster.ConnectionString));
        var holders = new List<NpgsqlConnection>();
        try
        {
            for (var chunk = 0L; ; chunk++)
            {
                // Each chunk in a transaction of its own, kept open: the one that finds the table full ends (its locks freed).
                var connection = await crowd.OpenConnectionAsync();
                await using var take = new NpgsqlCommand(
                    $"BEGIN; SELECT count(pg_advisory_xact_lock(g)) FROM generate_series({chunk * Chunk + 1}, {(chunk + 1) * Chunk}) g", connection);
                try
                {
                    await take.ExecuteNonQueryAsync();
                    holders.Add(connection);
                }
                catch (PostgresException ex) when (ex.SqlState == "53200")
                {
                    await connection.DisposeAsync();
                    break;
                }
            }

            foreach (var freed in holders[^2..])
            {
                await freed.DisposeAsync(); // its transaction rolls back: two more chunks free
            }

            // One account twice: the batch stores it once, and both get that job's id.
            const int size = 5 * Chunk;
            var accounts = Enumerable.Range(0, size).Select(_ => Guid.NewGuid()).ToArray();
            var results = await q.Queue.TryPushManyAsync([.. accounts.Select((a, i) => new UniqueAccountJob(a, i)), new UniqueAccountJob(accounts[0], -1)]);

            Assert.Equal(size, results.Count(r => r.Inserted));
            Assert.False(results[^1].Inserted);
            Assert.Equal(results[0].Id, results[^1].Id);
            Assert.Equal(size, await q.DataSource.ScalarAsync($"SELECT count(*) FROM jobs_test.jobs WHERE queue_name = '{q.Queue.QueueName}'"));
        }
        finally
        {
            foreach (var connection in holders)
            {
                await connection.DisposeAsync();
            }
        }
    }
}
