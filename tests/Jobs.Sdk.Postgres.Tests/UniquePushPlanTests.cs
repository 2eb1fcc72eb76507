using Npgsql;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// A unique push releases its key's expired holder first (<see cref="UniqueJobSql.Release"/>, a look-up by unique key),
/// unprepared, so it is planned for each execution on the table's size then. When the data source sets Npgsql's automatic
/// preparation (<c>Max Auto Prepare</c>), Npgsql prepares it once it ran <c>Auto Prepare Min Usages</c> times on a
/// connection, and PostgreSQL may switch it to a generic plan built on the table's statistics of that moment, kept until
/// the table is analyzed again: built while they said the table was small, it must still read the unique key's index,
/// not the whole table, once the queue has grown (as a scheduler's unique fire, <see cref="UniqueFirePlanTests"/>).
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class UniquePushPlanTests(PostgresFixture fixture)
{
    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)] // Max Auto Prepare=64;Auto Prepare Min Usages=2 on the data source
    [InlineData(true, true)] // the same, each push in a transaction of the caller's
    public async Task Unique_pushes_planned_on_a_young_queue_never_read_the_grown_jobs_table_with_a_sequential_scan(bool autoPrepare, bool callersTransaction)
    {
        const int Young = 16;
        const int Settle = 12;
        const int Grown = 20_000;
        const int Pushes = 20;
        var schema = "uniquepush_" + Guid.NewGuid().ToString("N")[..8];
        await using var direct = fixture.CreateDataSource();
        // One pooled connection: every push runs on the same server session.
        await using var ds = PlanTestSessions.OneSession(fixture, autoPrepare);
        try
        {
            await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<UniqueValueJob>((_, _, _) => Task.CompletedTask),
                driver: o => o.Schema = schema, dataSource: ds);
            var pushed = 0;
            async Task PushAsync()
            {
                var job = new UniqueValueJob(pushed++);
                if (!callersTransaction)
                {
                    Assert.True((await q.Queue.TryPushAsync(job)).Inserted);
                    return;
                }

                await using var connection = await ds.OpenConnectionAsync();
                await using var transaction = await connection.BeginTransactionAsync();
                Assert.True((await q.Queue.TryPushAsync(job, transaction)).Inserted);
                await transaction.CommitAsync();
            }

            // A young queue: a few unique jobs, the table analyzed at that size (as autovacuum does after its first changed
            // rows), and enough pushes for the session to settle on a plan. Autovacuum is then kept away, as it is until its
            // next pass while the queue grows.
            for (var i = 0; i < Young; i++)
            {
                await PushAsync();
            }

            await direct.ExecAsync($"ALTER TABLE {schema}.jobs SET (autovacuum_enabled = false); ANALYZE {schema}.jobs");
            for (var i = 0; i < Settle; i++)
            {
                await PushAsync();
            }

            await direct.ExecAsync($"""
                INSERT INTO {schema}.jobs (id, queue_name, name, payload, unique_key)
                SELECT gen_random_uuid(), '{q.Queue.QueueName}', '{UniqueValueJob.JobName}', jsonb_build_object('value', 1), 'grown-' || g FROM generate_series(1, {Grown}) g
                """);
            var before = await JobsTableSeqReads.ReadAsync(direct, schema, Young + Settle + Grown, ds);
            for (var i = 0; i < Pushes; i++)
            {
                await PushAsync();
            }

            var after = await JobsTableSeqReads.ReadAsync(direct, schema, Young + Settle + Grown + Pushes, ds);
            Assert.True(after.Rows - before.Rows < Grown,
                $"{Pushes} unique pushes on a table of {Grown:N0} jobs read {after.Rows - before.Rows:N0} rows in {after.Scans - before.Scans} sequential scans of it");
        }
        finally
        {
            await direct.ExecAsync($"DROP SCHEMA IF EXISTS {schema} CASCADE");
        }
    }
}
