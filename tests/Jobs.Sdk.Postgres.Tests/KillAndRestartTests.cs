using Npgsql;
using Xunit.Abstractions;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// The two promises under the worst faults at once: three worker processes drain 20,000 jobs while one is killed with
/// SIGKILL and the PostgreSQL server restarts. No job is lost, only the killed worker's in-flight jobs may run twice,
/// and the server never reports a deadlock.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class KillAndRestartTests(PostgresFixture fixture, ITestOutputHelper output)
{
    private const int Total = 20_000;
    private const double LeaseSeconds = 5;

    [Fact]
    public async Task Three_workers_one_killed_and_the_server_restarted_lose_no_job_and_only_the_killed_workers_in_flight_jobs_run_twice()
    {
        // The test restarts the server, so it needs a local cluster: the fixture's, or its own when the fixture uses
        // JOBS_TEST_POSTGRES or a container.
        LocalPostgresCluster? own = null;
        var cluster = fixture.Cluster ?? (own = await LocalPostgresCluster.StartAsync());
        var workers = new List<WorkerProcess>();
        try
        {
            var log = cluster.LogLength();
            await using var setup = await TestQueue.CreateAsync(fixture, _ => { }, dataSource: PostgresJobsBuilderExtensions.CreateDataSource(cluster.ConnectionString));
            var db = setup.DataSource;
            var table = await ProcessTests.CreateRunsTableAsync(db);
            var queue = setup.Queue.QueueName;
            for (var i = 0; i < 3; i++)
            {
                workers.Add(await WorkerProcess.StartAsync(cluster.ConnectionString, queue, table, concurrency: 8, leaseSeconds: LeaseSeconds, workMs: 0, prefetch: 4));
            }

            await setup.Queue.PushManyAsync(Enumerable.Range(0, Total).Select(i => new RecordJob(i)));
            var runs = $"SELECT count(*) FROM jobs_test.{table}";

            await EventuallyAsync(db, async () => await db.ScalarAsync(runs) >= 3000, "3000 runs before the kill");
            var victim = workers[0];
            victim.Kill();
            await victim.WaitForExitAsync();
            // What the killed worker held (claimed, outcome not recorded): nothing else may run twice. Its rows stay
            // processing until their lease expires, so this count is stable now.
            var inFlight = await db.ScalarAsync(
                $"SELECT count(*) FROM jobs_test.jobs WHERE queue_name = '{queue}' AND state = {(int)JobState.Processing} AND worker_id LIKE '%:{victim.Id}:%'");
            var runsAtKill = await db.ScalarAsync(runs);
            output.WriteLine($"killed worker pid {victim.Id} with {inFlight} jobs in flight, {runsAtKill} runs recorded");

            var restartedAt = DateTime.UtcNow;
            await cluster.RestartAsync();
            output.WriteLine($"server restarted in {(DateTime.UtcNow - restartedAt).TotalSeconds:F1} s");
            var runsAtRestart = await ScalarAfterRestartAsync(db, runs);
            Assert.True(runsAtRestart < Total, $"the restart came after the drain ({runsAtRestart} runs): the test proves nothing");

            await EventuallyAsync(db, async () => await db.ScalarAsync(runs) == Total, "every job ran", seconds: 90);
            await EventuallyAsync(db, async () => ProcessTests.Live(await setup.Queue.GetCountsAsync()) == 0, "queue drained");
            foreach (var w in workers.Skip(1))
            {
                Assert.Equal(0, await w.StopAsync());
            }

            // No job lost: each ran and ended completed.
            var counts = await setup.Queue.GetCountsAsync();
            Assert.Equal(0, counts.Failed);
            Assert.Equal(0, counts.Cancelled);
            Assert.Equal(Total, await db.ScalarAsync($"SELECT count(*) FROM jobs_test.{table}"));

            // Twice only for jobs the killed worker ran first, and no more of them than it had in flight.
            var twice = await db.ScalarAsync($"SELECT count(*) FROM jobs_test.{table} WHERE runs > 1");
            var twiceElsewhere = await db.ScalarAsync($"SELECT count(*) FROM jobs_test.{table} WHERE runs > 1 AND worker NOT LIKE '%:{victim.Id}:%'");
            output.WriteLine($"jobs run twice: {twice} (in flight at the kill: {inFlight}); first run elsewhere: {twiceElsewhere}");
            Assert.Equal(0, twiceElsewhere);
            Assert.Equal(0, await db.ScalarAsync($"SELECT count(*) FROM jobs_test.{table} WHERE runs > 2"));
            Assert.InRange(twice, 0, inFlight);

            LocalPostgresCluster.AssertNoDeadlocks(cluster.ReadLogSince(log));
        }
        finally
        {
            foreach (var w in workers)
            {
                w.Dispose();
            }

            if (own is not null)
            {
                await own.DisposeAsync();
            }
        }
    }

    /// <summary>Polls a database condition with a deadline; connection errors (the server restarting) count as not yet.</summary>
    private static Task EventuallyAsync(NpgsqlDataSource db, Func<Task<bool>> condition, string what, int seconds = 60) =>
        TestExtensions.EventuallyAsync(async () =>
        {
            try
            {
                return await condition();
            }
            catch (NpgsqlException)
            {
                return false;
            }
        }, seconds, what);

    private static async Task<long> ScalarAfterRestartAsync(NpgsqlDataSource db, string sql)
    {
        long value = -1;
        await EventuallyAsync(db, async () =>
        {
            value = await db.ScalarAsync(sql);
            return true;
        }, "the server answers after the restart");
        return value;
    }
}
