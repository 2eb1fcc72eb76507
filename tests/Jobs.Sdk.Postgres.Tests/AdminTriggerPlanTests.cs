using Jobs.Sdk.Drivers;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// An operator's trigger of a unique schedule entry (<see cref="JobAdmin.TriggerScheduleAsync"/>: the dashboard's and the
/// <c>jobs schedules trigger</c> command's) releases the entry's key when its holder's hold is over, first
/// (<see cref="UniqueJobSql.Release"/>, a look-up by unique key), unprepared. When the data source sets Npgsql's automatic
/// preparation (<c>Max Auto Prepare</c>), as a dashboard's may, Npgsql prepares it once it ran <c>Auto Prepare Min Usages</c>
/// times on a connection, and PostgreSQL may switch it to a generic plan built on the table's statistics of that moment,
/// kept until the table is analyzed again: built while they said the table was small (a young queue), it must still read
/// the unique key's index, not the whole table, once the queue has grown (as a unique push's, <see cref="UniquePushPlanTests"/>).
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class AdminTriggerPlanTests(PostgresFixture fixture)
{
    [Theory]
    [InlineData(true)] // Max Auto Prepare=64;Auto Prepare Min Usages=2 on the data source
    [InlineData(false)]
    public async Task Triggers_of_a_unique_entry_planned_on_a_young_queue_never_read_the_grown_jobs_table_with_a_sequential_scan(bool autoPrepare)
    {
        const int Young = 16;
        const int Settle = 12;
        const int Grown = 20_000;
        const int Triggers = 8;
        const string Queue = "reports";
        var schema = "triggerplan_" + Guid.NewGuid().ToString("N")[..8];
        await using var direct = fixture.CreateDataSource();
        // One pooled connection: every trigger runs on the same server session.
        await using var ds = PlanTestSessions.OneSession(fixture, autoPrepare);
        try
        {
            await PostgresJobMigrations.ApplyAsync(direct, schema);
            await new PostgresJobAdminStore(direct, schema).PublishSchedulesAsync([new ScheduleRegistration
            {
                QueueName = Queue, EntryKey = "nightly", JobName = MessageJob.JobName, Description = "cron 0 0 * * *", Payload = "{\"id\":1}"u8.ToArray(),
                UniqueKey = "nightly",
            }], default);
            var admin = PostgresJobAdmin.Create(ds, new PostgresJobDriverOptions { Schema = schema });

            // A young queue: a few unique jobs, the table analyzed at that size (as autovacuum does after its first changed
            // rows), and enough triggers for the session to settle on a plan (the first pushes the entry's job, which then
            // holds the key: the others find it held). Autovacuum is then kept away, as it is until its next pass while the
            // queue grows (by finished jobs).
            await direct.ExecAsync($"""
                INSERT INTO {schema}.jobs (id, queue_name, name, payload, unique_key)
                SELECT gen_random_uuid(), '{Queue}', '{MessageJob.JobName}', jsonb_build_object('id', g), 'young-' || g FROM generate_series(1, {Young}) g;
                ALTER TABLE {schema}.jobs SET (autovacuum_enabled = false);
                ANALYZE {schema}.jobs
                """);
            Assert.Equal(1, await admin.TriggerScheduleAsync("nightly"));
            for (var i = 1; i < Settle; i++)
            {
                Assert.Equal(0, await admin.TriggerScheduleAsync("nightly"));
            }

            await direct.ExecAsync($"""
                INSERT INTO {schema}.jobs (id, queue_name, name, payload, state, finished_at, unique_key)
                SELECT gen_random_uuid(), '{Queue}', '{MessageJob.JobName}', jsonb_build_object('id', g), {(short)JobState.Completed}, now(), 'grown-' || g
                FROM generate_series(1, {Grown}) g
                """);
            var before = await JobsTableSeqReads.ReadAsync(direct, schema, Young + 1 + Grown, ds);
            for (var i = 0; i < Triggers; i++)
            {
                Assert.Equal(0, await admin.TriggerScheduleAsync("nightly"));
            }

            var after = await JobsTableSeqReads.ReadAsync(direct, schema, Young + 1 + Grown, ds);
            var prepared = await PlanTestSessions.PreparedRunsAsync(ds, $"%{schema}%", "%WITH expired AS MATERIALIZED%");
            Assert.True(after.Rows - before.Rows < Grown,
                $"{Triggers} triggers of a unique schedule entry whose job holds its key, on a table of {Grown:N0} jobs, read {after.Rows - before.Rows:N0} rows " +
                $"in {after.Scans - before.Scans} sequential scans of it (the key's release, as the session prepared it: " +
                $"{prepared})");
            // The scenario holds: with automatic preparation, Npgsql prepared the release on its own.
            Assert.True(!autoPrepare || prepared.Any, $"Npgsql prepared none of the {Settle + Triggers} releases of the triggers");
        }
        finally
        {
            await direct.ExecAsync($"DROP SCHEMA IF EXISTS {schema} CASCADE");
        }
    }
}
