using Npgsql;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// The chaos tests read the test worker's records of runs: a second run of a job whose earlier run was on a live worker is
/// a broken promise there (the keyed chaos test counts any; the others one after a run that ended). A server restart that
/// caught a test worker handler writing its record of a run made that handler fail (57P01, or the connection gone), and
/// the job's retry was a second run by a live worker: the keyed chaos test failed although no completed job ran again.
/// The handlers write their records once the server is back instead (RecordWrite in the TestWorker): one run, one record.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class RestartDuringRunTests(PostgresFixture fixture)
{
    [Fact]
    public async Task A_keyed_run_whose_end_meets_a_server_restart_is_recorded_once_and_not_run_again()
    {
        await RunThroughRestartAsync(new KeyedRecordJob(1), KeyedRuns.CreateAsync, "UPDATE", "_keyed", keyed: true, async (db, table, id) =>
        {
            var runs = await ChaosFaults.CountAsync(db, $"SELECT count(*) FROM jobs_test.{table}_keyed WHERE job_id = '{id}' AND ended_at IS NOT NULL");
            var started = await ChaosFaults.CountAsync(db, $"SELECT count(*) FROM jobs_test.{table}_keyed WHERE job_id = '{id}'");
            Assert.True(started == 1 && runs == 1, $"the job ran {started} times ({runs} ended): the restart failed the handler, and its retry ran it again");
        });
    }

    /// <summary>RecordJob with spans (the cancel chaos test's handler): the end of its span, then its run's row (runs + 1).</summary>
    [Theory]
    [InlineData("UPDATE", "_spans")]
    [InlineData("INSERT", "")]
    public async Task A_recorded_run_whose_write_meets_a_server_restart_is_recorded_once_and_not_run_again(string statement, string heldTable)
    {
        await RunThroughRestartAsync(new RecordJob(1), RunSpans.CreateAsync, statement, heldTable, keyed: false, async (db, table, id) =>
        {
            var spans = await ChaosFaults.CountAsync(db, $"SELECT count(*) FROM jobs_test.{table}_spans WHERE job_id = '{id}'");
            var ended = await ChaosFaults.CountAsync(db, $"SELECT count(*) FROM jobs_test.{table}_spans WHERE job_id = '{id}' AND ended_at IS NOT NULL");
            var runs = await ChaosFaults.CountAsync(db, $"SELECT coalesce(sum(runs), 0) FROM jobs_test.{table} WHERE job_id = '{id}'");
            Assert.True(spans == 1 && ended == 1 && runs == 1,
                $"the job ran {spans} times ({ended} spans ended, runs recorded {runs}): the restart failed the handler, and its retry ran it again");
        });
    }

    /// <summary>
    /// Pushes <paramref name="job"/> on a private cluster and runs it in a worker process whose <paramref name="statement"/>
    /// on <c>{table}{heldTable}</c> waits on an advisory lock the test holds while the server restarts: the restart comes
    /// while the handler writes. Once the job finished, <paramref name="assert"/> gets the database, the runs table and the job.
    /// </summary>
    private async Task RunThroughRestartAsync<TJob>(TJob job, Func<NpgsqlDataSource, string, Task> createTables, string statement, string heldTable,
        bool keyed, Func<NpgsqlDataSource, string, JobId, Task> assert)
        where TJob : IJob<TJob>
    {
        await using var cluster = await LocalPostgresCluster.StartAsync();
        var cs = cluster.ConnectionString;
        await using var setup = await TestQueue.CreateAsync(fixture, _ => { }, dataSource: PostgresJobsBuilderExtensions.CreateDataSource(cs));
        var db = setup.DataSource;
        var table = await ProcessTests.CreateRunsTableAsync(db);
        await createTables(db, table);
        var held = table + heldTable;
        var hold = Math.Abs(table.GetHashCode(StringComparison.Ordinal));
        await db.ExecAsync($"""
            CREATE FUNCTION jobs_test.{table}_hold() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
              PERFORM pg_advisory_xact_lock_shared({hold}); RETURN NEW; END $$;
            CREATE TRIGGER hold BEFORE {statement} ON jobs_test.{held} FOR EACH ROW EXECUTE FUNCTION jobs_test.{table}_hold();
            """);
        await using var holder = await db.OpenConnectionAsync();
        await using (var take = new NpgsqlCommand($"SELECT pg_advisory_lock({hold})", holder))
        {
            await take.ExecuteNonQueryAsync();
        }

        var id = (await setup.Queue.PushManyAsync([job]))[0];
        // Spans (RecordJob) are on with a cluster-wide limit.
        using var worker = await WorkerProcess.StartAsync(cs, setup.Queue.QueueName, table, concurrency: 1, leaseSeconds: 2, workMs: 15,
            globalConcurrency: keyed ? 0 : 100, keyed: keyed);
        await TestExtensions.EventuallyAsync(
            async () => await db.ScalarAsync($"SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND wait_event = 'advisory' AND query LIKE '{statement}%{held} %'") == 1,
            seconds: 60, what: $"the handler's {statement} on {held}, waiting for the test's lock");

        await cluster.RestartAsync();
        // Finished: no longer waiting or running (a completed job's row is deleted).
        await TestExtensions.EventuallyAsync(
            async () => await ChaosFaults.CountAsync(db, $"SELECT count(*) FROM jobs_test.jobs WHERE id = '{id}' AND state IN ({(int)JobState.Pending}, {(int)JobState.Processing}, {(int)JobState.Retrying})") == 0,
            seconds: 60, what: "the job finished");
        Assert.Equal(0, await worker.StopAsync());
        await assert(db, table, id);
    }
}
