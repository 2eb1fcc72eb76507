using Jobs.Sdk.Cli.Tests;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// <see cref="JobQueue.GetCountsByNameAsync"/> on a large queue reads it in bounded batches, each its own short
/// transaction, through the queue's indexes (as a cleanup's dry run counts, issue 15): one statement over every row of
/// the queue held one snapshot for as long as it read them (seconds at a million rows), which slows every concurrent
/// claim. Observed from the database, not timed (<see cref="TableLockWatch"/>); the counts stay exact on a quiet queue.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class CountsByNameBatchTests(PostgresFixture fixture)
{
    [Fact]
    public async Task Counts_by_name_of_a_large_queue_read_one_bounded_batch_per_transaction_and_are_exact()
    {
        var schema = "byname_" + Guid.NewGuid().ToString("N")[..10];
        await using var ds = fixture.CreateDataSource();
        await using var driver = new PostgresJobDriver(ds, new PostgresJobDriverOptions { Schema = schema, QueueName = "names", UseListenNotify = false });
        await driver.WaitUntilReadyAsync(default);
        try
        {
            // Queue names: a: 6,000 completed (three to a timestamp), 300 failed, 100 running; b: 5,500 pending of priority 2
            // (seven due at each time) and 200 retrying of priority 4, 50 paused; c: 40 cancelled. Queue other: 1,000 a.
            await ds.ExecAsync($"""
                INSERT INTO {schema}.jobs (id, queue_name, name, payload, state, attempts, finished_at, updated_at)
                SELECT gen_random_uuid(), 'names', 'a', jsonb_build_object(), 3, 1, t, t
                FROM generate_series(1, 6000) g, LATERAL (SELECT now() - (g / 3) * interval '1 second' AS t) x;
                INSERT INTO {schema}.jobs (id, queue_name, name, payload, state, attempts, finished_at, updated_at)
                SELECT gen_random_uuid(), 'names', 'a', jsonb_build_object(), 4, 1, now(), now() FROM generate_series(1, 300);
                INSERT INTO {schema}.jobs (id, queue_name, name, payload, state, attempts, worker_id, lease_token, lease_expires_at, started_at)
                SELECT gen_random_uuid(), 'names', 'a', jsonb_build_object(), 1, 1, 'w', gen_random_uuid(), now() + interval '1 hour', now()
                FROM generate_series(1, 100);
                INSERT INTO {schema}.jobs (id, queue_name, name, payload, priority, run_at)
                SELECT gen_random_uuid(), 'names', 'b', jsonb_build_object(), 2, now() + (g / 7) * interval '1 ms' FROM generate_series(1, 5500) g;
                INSERT INTO {schema}.jobs (id, queue_name, name, payload, state, priority, attempts, run_at)
                SELECT gen_random_uuid(), 'names', 'b', jsonb_build_object(), 2, 4, 1, now() + interval '1 hour' FROM generate_series(1, 200);
                INSERT INTO {schema}.jobs (id, queue_name, name, payload, state, run_at)
                SELECT gen_random_uuid(), 'names', 'b', jsonb_build_object(), 6, now() FROM generate_series(1, 50);
                INSERT INTO {schema}.jobs (id, queue_name, name, payload, state, attempts, finished_at, updated_at)
                SELECT gen_random_uuid(), 'names', 'c', jsonb_build_object(), 5, 1, now(), now() FROM generate_series(1, 40);
                INSERT INTO {schema}.jobs (id, queue_name, name, payload, state, attempts, finished_at, updated_at)
                SELECT gen_random_uuid(), 'other', 'a', jsonb_build_object(), 3, 1, now(), now() FROM generate_series(1, 1000);
                ANALYZE {schema}.jobs;
                """);
            const int Rows = 6000 + 300 + 100 + 5500 + 200 + 50 + 40;
            const int Batch = 5_000; // CountByNameSql.BatchSize

            var (counts, statements) = await TableLockWatch.StatementsOnJobsAsync(ds, schema, () => driver.GetCountsByNameAsync(CancellationToken.None));

            Assert.Equal(["a", "b", "c"], counts.Select(c => c.Name));
            // Every state of each name: pending, processing, retrying, completed, failed, cancelled, paused.
            Assert.Equal([(0L, 100L, 0L, 6000L, 300L, 0L, 0L), (5500L, 0L, 200L, 0L, 0L, 0L, 50L), (0L, 0L, 0L, 0L, 0L, 40L, 0L)],
                counts.Select(n => n.Counts).Select(k => (k.Pending, k.Processing, k.Retrying, k.Completed, k.Failed, k.Cancelled, k.Paused)));
            // A statement seen is a transaction: at least one per batch of at most Batch rows.
            var counting = statements.Where(s => s.Query.Contains("count(", StringComparison.Ordinal)).ToList();
            Assert.True(counting.Count >= (Rows + Batch - 1) / Batch,
                $"GetCountsByNameAsync counted {Rows} rows in {counting.Count} transaction(s) on the jobs table (batches of {Batch} take " +
                $"at least {(Rows + Batch - 1) / Batch}):\n" + string.Join("\n---\n", counting.Distinct().Select(s => s.Query)));
        }
        finally
        {
            await ds.ExecAsync($"DROP SCHEMA IF EXISTS {schema} CASCADE");
        }
    }
}
