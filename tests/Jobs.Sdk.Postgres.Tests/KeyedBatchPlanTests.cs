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
/// <para>
/// Npgsql prepares a statement on its own once it ran <c>Auto Prepare Min Usages</c> times on a connection when the data
/// source sets <c>Max Auto Prepare</c> (Npgsql's advice for performance): the batch is then prepared all the same, and
/// must still never run a generic plan, on a connection of the driver's own or in a caller's transaction.
/// </para>
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class KeyedBatchPlanTests(PostgresFixture fixture)
{
    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)] // Max Auto Prepare=64;Auto Prepare Min Usages=2
    [InlineData(true, true)] // the same, each batch in a transaction of the caller's
    public async Task Keyed_batches_on_one_connection_never_run_a_generic_plan_planned_on_a_smaller_table(bool autoPrepare, bool callersTransaction)
    {
        const int Batches = 12;
        const int Keys = 250;
        // One pooled connection: every push runs on the same server session, whose prepared statements we can inspect.
        await using var ds = fixture.CreateDataSource(b =>
        {
            b.MaxPoolSize = 1;
            if (autoPrepare)
            {
                (b.MaxAutoPrepare, b.AutoPrepareMinUsages) = (64, 2);
            }
        });
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<KeyedRecordJob>((_, _, _) => Task.CompletedTask), dataSource: ds);

        for (var batch = 0; batch < Batches; batch++)
        {
            var jobs = Enumerable.Range(0, Keys).Select(k => new KeyedRecordJob(k * 1_000 + batch));
            if (!callersTransaction)
            {
                await q.Queue.PushManyAsync(jobs);
                continue;
            }

            await using var connection = await ds.OpenConnectionAsync();
            await using var transaction = await connection.BeginTransactionAsync();
            await q.Queue.PushManyAsync(jobs, transaction);
            await transaction.CommitAsync();
        }

        Assert.Equal(Batches * Keys, await ds.ScalarAsync(
            $"SELECT count(*) FROM jobs_test.jobs WHERE queue_name = '{q.Queue.QueueName}' AND concurrency_key IS NOT NULL"));
        Assert.Equal(0, await ds.ScalarAsync(
            "SELECT coalesce(sum(generic_plans), 0) FROM pg_prepared_statements WHERE statement LIKE '%ahead AS MATERIALIZED%'"));
    }
}
