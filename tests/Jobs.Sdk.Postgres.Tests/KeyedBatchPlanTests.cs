using Jobs.Sdk.Testing;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// A keyed batch push looks up each key's last unfinished job (admission). As a prepared statement, PostgreSQL switched it
/// to a generic plan after five executions, planned while the table was still small: a sequential scan of the jobs table
/// per key. The plan stays with the session until the table is analyzed again, so a burst of keyed batches into a fresh
/// or fast-growing queue read the whole table once per key of every batch (20,000 jobs over 1,000 keys: 1,300 jobs/s
/// against 30,000 before batches were cut to 250 keyed rows per statement; found by the benchmark,
/// <c>--workload enqueue_batch --concurrency-keys 1000</c>). A keyed batch is now planned for its execution, on the
/// table's size at that moment.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class KeyedBatchPlanTests(PostgresFixture fixture)
{
    [Fact]
    public async Task Keyed_batches_on_one_connection_never_run_a_generic_plan_planned_on_a_smaller_table()
    {
        const int Batches = 12;
        const int Keys = 250;
        // One pooled connection: every push runs on the same server session, whose prepared statements we can inspect.
        await using var ds = fixture.CreateDataSource(b => b.MaxPoolSize = 1);
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<KeyedRecordJob>((_, _, _) => Task.CompletedTask), dataSource: ds);

        for (var batch = 0; batch < Batches; batch++)
        {
            await q.Queue.PushManyAsync(Enumerable.Range(0, Keys).Select(k => new KeyedRecordJob(k * 1_000 + batch)));
        }

        Assert.Equal(Batches * Keys, await ds.ScalarAsync(
            $"SELECT count(*) FROM jobs_test.jobs WHERE queue_name = '{q.Queue.QueueName}' AND concurrency_key IS NOT NULL"));
        Assert.Equal(0, await ds.ScalarAsync(
            "SELECT coalesce(sum(generic_plans), 0) FROM pg_prepared_statements WHERE statement LIKE '%ahead AS MATERIALIZED%'"));
    }
}
