namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// The chaos tests count a second run of a job whose earlier run was on a live worker as a broken promise (a completed job
/// run again). A server restart that caught the test worker's keyed handler recording the end of its run made that
/// handler fail (57P01, or the connection gone), and the job's retry was a second run by a live worker: the chaos test
/// failed although no completed job ran again. The handler records its end once the server is back instead.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class RestartDuringRunTests(PostgresFixture fixture)
{
    [Fact]
    public async Task A_keyed_run_whose_end_meets_a_server_restart_is_recorded_once_and_not_run_again()
    {
        await using var cluster = await LocalPostgresCluster.StartAsync();
        var cs = cluster.ConnectionString;
        await using var setup = await TestQueue.CreateAsync(fixture, _ => { }, dataSource: PostgresJobsBuilderExtensions.CreateDataSource(cs));
        var db = setup.DataSource;
        var table = await ProcessTests.CreateRunsTableAsync(db);
        await KeyedRuns.CreateAsync(db, table);
        // The end of a run waits while the test holds an advisory lock: the restart comes while the handler records it.
        var hold = Math.Abs(table.GetHashCode(StringComparison.Ordinal));
        await db.ExecAsync($"""
            CREATE FUNCTION jobs_test.{table}_hold() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
              PERFORM pg_advisory_xact_lock_shared({hold}); RETURN NEW; END $$;
            CREATE TRIGGER hold BEFORE UPDATE ON jobs_test.{table}_keyed FOR EACH ROW EXECUTE FUNCTION jobs_test.{table}_hold();
            """);
        await using (var holder = await db.OpenConnectionAsync())
        {
            await using (var take = new Npgsql.NpgsqlCommand($"SELECT pg_advisory_lock({hold})", holder))
            {
                await take.ExecuteNonQueryAsync();
            }

            var id = (await setup.Queue.PushManyAsync([new KeyedRecordJob(1)]))[0];
            using var worker = await WorkerProcess.StartAsync(cs, setup.Queue.QueueName, table, concurrency: 1, leaseSeconds: 2, workMs: 15, keyed: true);
            await TestExtensions.EventuallyAsync(
                async () => await db.ScalarAsync($"SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND wait_event = 'advisory' AND query LIKE 'UPDATE%{table}_keyed%'") == 1,
                seconds: 60, what: "the handler records the end of its run, waiting for the test's lock");

            await cluster.RestartAsync();
            // Finished: no longer waiting or running (a completed job's row is deleted), and a run of it ended.
            await TestExtensions.EventuallyAsync(
                async () => await ChaosFaults.CountAsync(db, $"SELECT count(*) FROM jobs_test.jobs WHERE id = '{id}' AND state IN ({(int)JobState.Pending}, {(int)JobState.Processing}, {(int)JobState.Retrying})") == 0
                    && await ChaosFaults.CountAsync(db, $"SELECT count(*) FROM jobs_test.{table}_keyed WHERE job_id = '{id}' AND ended_at IS NOT NULL") > 0,
                seconds: 60, what: "the job finished");
            Assert.Equal(0, await worker.StopAsync());

            var runs = await ChaosFaults.CountAsync(db, $"SELECT count(*) FROM jobs_test.{table}_keyed WHERE job_id = '{id}'");
            Assert.True(runs == 1, $"the job ran {runs} times: the restart failed the handler, and its retry ran it again");
        }
    }
}
