using Jobs.Sdk.Drivers;
using Jobs.Sdk.Testing;
using Npgsql;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// Every statement the driver and the admin store send to the jobs table on a hot or operator path, run the way the
/// product runs it, on one server session: Npgsql prepares some of them itself (the driver's hot paths), and all of them
/// when the data source sets its automatic preparation (<c>Max Auto Prepare</c>). PostgreSQL then switches a prepared
/// statement to a generic plan after five executions, built on the table's statistics of that moment and kept until the
/// table is analyzed again: built while they said the table was small (a young queue), it must still read the jobs
/// table's indexes, not the whole table, once the table has grown (here by rows of another queue and finished rows of
/// the queue itself). The statement-by-statement tests (<see cref="JobLookupPlanTests"/>, <see cref="AdminReadPlanTests"/>,
/// <see cref="UniquePushPlanTests"/>, <see cref="KeyedPushPlanTests"/>) pin single statements; this one sweeps them all.
/// <para>
/// Each operation settles on a young table of its own (a schema per case): PostgreSQL sizes a table by its pages as it
/// plans, so a plan built once earlier operations had pushed a few hundred jobs was planned for a table of a few pages,
/// where a look-up by id or key reads the index at any size; such operations passed whatever their statements' plans
/// would be on a queue's first jobs.
/// </para>
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class GenericPlanSweepTests(PostgresFixture fixture)
{
    /// <summary>Every operation, with Npgsql's automatic preparation on the data source and without (what the driver prepares itself).</summary>
    public static TheoryData<bool, string> Cases()
    {
        var cases = new TheoryData<bool, string>();
        foreach (var autoPrepare in new[] { true, false })
        {
            foreach (var operation in SweepCalls.Operations)
            {
                cases.Add(autoPrepare, operation);
            }
        }

        return cases;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task No_statement_planned_on_a_young_queue_reads_the_grown_jobs_table_with_a_sequential_scan(bool autoPrepare, string operation)
    {
        const int Young = 16;
        const int Settle = 10;
        const int GrownOther = 15_000;
        const int GrownFinished = 5_000;
        const int Calls = 8;
        var schema = "genplan_" + Guid.NewGuid().ToString("N")[..8];
        await using var direct = fixture.CreateDataSource();
        // One pooled connection: every call runs on the same server session, which keeps what it prepared (room for all).
        await using var ds = PlanTestSessions.OneSession(fixture, autoPrepare, maxAutoPrepare: 256);
        try
        {
            await using var q = await TestQueue.CreateAsync(fixture, b =>
            {
                b.AddJob<MessageJob>((_, _, _) => Task.CompletedTask);
                b.AddJob<UniqueValueJob>((_, _, _) => Task.CompletedTask);
                b.AddJob<KeyedRecordJob>((_, _, _) => Task.CompletedTask);
            }, driver: o => o.Schema = schema, dataSource: ds);
            var sweep = new SweepCalls(q, PostgresJobAdmin.Create(ds, new PostgresJobDriverOptions { Schema = schema }), ds);

            // A young queue: a few jobs, the table analyzed at that size (as autovacuum does after its first changed rows),
            // and enough calls of the statement for the session to settle on a plan. Autovacuum is then kept away, as it is
            // until its next pass while the table grows.
            for (var i = 0; i < Young; i++)
            {
                await q.Queue.PushAsync(new MessageJob(i, "young"));
            }

            await direct.ExecAsync($"ALTER TABLE {schema}.jobs SET (autovacuum_enabled = false); ANALYZE {schema}.jobs");
            await sweep.StartAsync();
            for (var i = 0; i < Settle; i++)
            {
                await sweep.CallAsync(operation);
            }

            // The table grows: another queue's jobs in every state, and this queue's finished jobs (kept by retention).
            var queue = q.Queue.QueueName;
            await direct.ExecAsync($"""
                INSERT INTO {schema}.jobs (id, queue_name, name, payload, state, run_at, finished_at, unique_key, concurrency_key)
                SELECT gen_random_uuid(), 'other', '{MessageJob.JobName}', jsonb_build_object('id', g), (g % 7)::smallint, now() - interval '1 minute',
                    CASE WHEN g % 7 IN (3, 4, 5) THEN now() END, CASE WHEN g % 3 = 0 THEN 'u' || g END, CASE WHEN g % 5 = 0 THEN 'k' || (g % 100) END
                FROM generate_series(1, {GrownOther}) g;
                INSERT INTO {schema}.jobs (id, queue_name, name, payload, state, finished_at)
                SELECT gen_random_uuid(), '{queue}', '{MessageJob.JobName}', jsonb_build_object('id', g), {(short)JobState.Completed}, now()
                FROM generate_series(1, {GrownFinished}) g
                """);
            var before = await JobsTableSeqReads.ReadAsync(direct, schema, GrownOther + GrownFinished, ds);
            for (var i = 0; i < Calls; i++)
            {
                await sweep.CallAsync(operation);
            }

            var after = await JobsTableSeqReads.ReadAsync(direct, schema, GrownOther + GrownFinished, ds);
            var prepared = await PlanTestSessions.PreparedRunsAsync(ds, $"%{schema}%");
            Assert.True(after.Scans == before.Scans,
                $"{Calls} calls of {operation} (auto-prepare: {autoPrepare}) on a table of {GrownOther + GrownFinished:N0} jobs read {after.Rows - before.Rows:N0} rows " +
                $"in {after.Scans - before.Scans} sequential scans of it (prepared statements of the session: {prepared})");
        }
        finally
        {
            await direct.ExecAsync($"DROP SCHEMA IF EXISTS {schema} CASCADE");
        }
    }
}
