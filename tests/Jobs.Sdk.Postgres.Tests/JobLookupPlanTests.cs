using Npgsql;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// What users and the worker host ask of one queue's jobs without preparing it (a job by id: <c>GetJobAsync</c>,
/// <c>PauseAsync</c>, <c>ResumeAsync</c>; the runnable names the unhandled-job check reads) is planned for each execution
/// on the table's size then. When the data source sets Npgsql's automatic preparation (<c>Max Auto Prepare</c>), Npgsql
/// prepares it once it ran <c>Auto Prepare Min Usages</c> times on a connection, and PostgreSQL may switch it to a generic
/// plan built on the table's statistics of that moment, kept until the table is analyzed again: built while they said the
/// table was small (a young queue), it read the whole table at every call once the queue had grown.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class JobLookupPlanTests(PostgresFixture fixture)
{
    [Theory]
    [InlineData(false, "get")]
    [InlineData(true, "get")] // Max Auto Prepare=64;Auto Prepare Min Usages=2 on the data source
    [InlineData(true, "pause")]
    [InlineData(true, "resume")]
    [InlineData(true, "waiting-names")]
    public async Task Job_reads_planned_on_a_young_queue_never_read_the_grown_jobs_table_with_a_sequential_scan(bool autoPrepare, string operation)
    {
        const int Young = 16;
        const int Settle = 12;
        const int Grown = 20_000;
        const int Calls = 20;
        var schema = "lookupplan_" + Guid.NewGuid().ToString("N")[..8];
        await using var direct = fixture.CreateDataSource();
        // One pooled connection: every call runs on the same server session.
        await using var ds = PlanTestSessions.OneSession(fixture, autoPrepare);
        try
        {
            await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<MessageJob>((_, _, _) => Task.CompletedTask),
                driver: o => o.Schema = schema, dataSource: ds);
            Task CallAsync() => operation switch
            {
                "get" => q.Queue.GetJobAsync(JobId.New()),
                "pause" => q.Queue.PauseAsync(JobId.New()),
                "resume" => q.Queue.ResumeAsync(JobId.New()),
                _ => q.Driver.GetWaitingNamesAsync(TimeSpan.Zero, CancellationToken.None),
            };

            // A young queue: a few jobs, the table analyzed at that size (as autovacuum does after its first changed rows),
            // and enough calls for the session to settle on a plan. Autovacuum is then kept away, as it is until its next
            // pass while the queue grows (by finished jobs: the runnable ones stay few).
            for (var i = 0; i < Young; i++)
            {
                await q.Queue.PushAsync(new MessageJob(i, "young"));
            }

            await direct.ExecAsync($"ALTER TABLE {schema}.jobs SET (autovacuum_enabled = false); ANALYZE {schema}.jobs");
            for (var i = 0; i < Settle; i++)
            {
                await CallAsync();
            }

            await direct.ExecAsync($"""
                INSERT INTO {schema}.jobs (id, queue_name, name, payload, state, finished_at)
                SELECT gen_random_uuid(), '{q.Queue.QueueName}', '{MessageJob.JobName}', jsonb_build_object('id', 1), {(short)JobState.Completed}, now() FROM generate_series(1, {Grown}) g
                """);
            // The session sends its statistics before each reading: the calls insert nothing, so the inserts counted do not tell.
            var before = await JobsTableSeqReads.ReadAsync(direct, schema, Young + Grown, ds);
            for (var i = 0; i < Calls; i++)
            {
                await CallAsync();
            }

            var after = await JobsTableSeqReads.ReadAsync(direct, schema, Young + Grown, ds);
            // The session's statement of the operation, when Npgsql prepared it: its generic and custom runs.
            var marker = operation switch
            {
                "get" => "errors::text",
                "pause" => "paused_from = state",
                "resume" => "paused_from = NULL",
                _ => "GROUP BY name",
            };
            var prepared = await PlanTestSessions.PreparedRunsAsync(ds, $"%{schema}%", $"%{marker}%");
            Assert.True(after.Rows - before.Rows < Grown,
                $"{Calls} calls of {operation} on a table of {Grown:N0} jobs read {after.Rows - before.Rows:N0} rows in {after.Scans - before.Scans} sequential scans of it " +
                $"(prepared statements of the session: {prepared})");
            // The scenario holds: with automatic preparation, Npgsql prepared the calls on its own.
            Assert.True(!autoPrepare || prepared.Any, $"Npgsql prepared none of the {Settle + Calls} calls of {operation}");
        }
        finally
        {
            await direct.ExecAsync($"DROP SCHEMA IF EXISTS {schema} CASCADE");
        }
    }
}
