using Jobs.Sdk.Drivers;
using Npgsql;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// A scheduler's unique fire whose key was taken by a push that committed after the fire's snapshot was taken finds no
/// holder in its own statement, and reads it afterwards (<see cref="ScheduleSql.UniqueHolder"/>, a look-up by unique key,
/// unprepared). When the data source sets Npgsql's automatic preparation (<c>Max Auto Prepare</c>), Npgsql prepares it
/// once it ran <c>Auto Prepare Min Usages</c> times on a connection, and PostgreSQL may switch it to a generic plan built
/// on the table's statistics of that moment, kept until the table is analyzed again: built while they said the table was
/// small, it must still read the unique key's index, not the whole table, once the queue has grown.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class UniqueHolderPlanTests(PostgresFixture fixture)
{
    [Theory]
    [InlineData(true)] // Max Auto Prepare=64;Auto Prepare Min Usages=2 on the data source
    [InlineData(false)]
    public async Task Holder_reads_of_raced_unique_fires_planned_on_a_young_queue_never_read_the_grown_jobs_table_with_a_sequential_scan(bool autoPrepare)
    {
        const int Young = 16;
        const int Settle = 10;
        const int Grown = 50_000;
        const int Fires = 8;
        var schema = "holderplan_" + Guid.NewGuid().ToString("N")[..8];
        await using var direct = fixture.CreateDataSource();
        // One pooled connection: every fire runs on the same server session.
        await using var ds = PlanTestSessions.OneSession(fixture, autoPrepare);
        try
        {
            await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<MessageJob>((_, _, _) => Task.CompletedTask),
                driver: o => o.Schema = schema, dataSource: ds);
            IJobScheduleStore store = q.Driver;
            var queue = q.Queue.QueueName;
            var fired = 0;

            // A fire whose key a concurrent push takes: the push's transaction holds its new row while the fire waits on
            // it (the insert's conflict), and commits after the fire's snapshot was taken.
            async Task FireIntoALaterHolderAsync()
            {
                fired++;
                var key = $"raced-{fired}";
                await using var connection = await direct.OpenConnectionAsync();
                await using var transaction = await connection.BeginTransactionAsync();
                await using var insert = new NpgsqlCommand($"""
                    INSERT INTO {schema}.jobs (id, queue_name, name, payload, unique_key)
                    VALUES (gen_random_uuid(), '{queue}', '{MessageJob.JobName}', '{"{"}"id":1,"message":"held"{"}"}', '{key}') RETURNING id
                    """, connection, transaction);
                var holder = (Guid)(await insert.ExecuteScalarAsync())!;
                var job = new JobPushRecord
                {
                    Id = JobId.New(), Name = MessageJob.JobName, Payload = "{\"id\":1,\"message\":\"fire\"}"u8.ToArray(), UniqueKey = key,
                    RunAt = DateTimeOffset.UtcNow,
                };
                var fire = store.PushScheduledAsync("raced", DateTimeOffset.UtcNow.AddMinutes(fired), job, CancellationToken.None);
                await TestExtensions.EventuallyAsync(async () => fire.IsCompleted || await direct.ScalarAsync($"""
                    SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%{schema}%schedule_fires%'
                    """) > 0, seconds: 30, what: $"the fire of key {key} waits for the transaction that pushed its holder");
                await transaction.CommitAsync();
                var result = await fire;
                Assert.Equal(ScheduledFireOutcome.KeyHeld, result.Outcome);
                Assert.Equal(holder, result.JobId?.Value);
            }

            // A young queue: a few jobs, the table analyzed at that size (as autovacuum does after its first changed rows),
            // and enough fires for the session to settle on a plan. Autovacuum is then kept away, as it is until its next
            // pass while the queue grows.
            for (var i = 0; i < Young; i++)
            {
                await q.Queue.PushAsync(new MessageJob(i, "young"));
            }

            await direct.ExecAsync($"ALTER TABLE {schema}.jobs SET (autovacuum_enabled = false); ANALYZE {schema}.jobs");
            for (var i = 0; i < Settle; i++)
            {
                await FireIntoALaterHolderAsync();
            }

            await direct.ExecAsync($"""
                INSERT INTO {schema}.jobs (id, queue_name, name, payload, state, finished_at, unique_key)
                SELECT gen_random_uuid(), '{queue}', '{MessageJob.JobName}', jsonb_build_object('id', g), {(short)JobState.Completed}, now(), 'grown-' || g
                FROM generate_series(1, {Grown}) g
                """);
            var before = await JobsTableSeqReads.ReadAsync(direct, schema, Young + Settle + Grown, ds);
            for (var i = 0; i < Fires; i++)
            {
                await FireIntoALaterHolderAsync();
            }

            var after = await JobsTableSeqReads.ReadAsync(direct, schema, Young + Settle + Grown + Fires, ds);
            var prepared = await PlanTestSessions.PreparedRunsAsync(ds, $"SELECT id FROM %{schema}%unique_key = $2");
            Assert.True(after.Scans == before.Scans,
                $"{Fires} unique fires that found their key taken by a later commit, on a table of {Grown:N0} jobs, read {after.Rows - before.Rows:N0} rows " +
                $"in {after.Scans - before.Scans} sequential scans of it (the holder's read, as the session prepared it: " +
                $"{prepared})");
        }
        finally
        {
            await direct.ExecAsync($"DROP SCHEMA IF EXISTS {schema} CASCADE");
        }
    }
}
