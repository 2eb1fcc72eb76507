using Xunit.Abstractions;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// Every promise at once under faults: three worker processes drain keyed jobs (limit 1 per key, 40 keys) under a
/// cluster-wide limit of 10 with prefetch, while a seeded random schedule SIGKILLs a worker (and starts a new one) three
/// times out of four and restarts the server the fourth. Afterwards every job completed; no job ran a second time unless
/// the worker of its earlier run was killed; among runs that ended, no key ever had two at once, no more than 10 ran at
/// once, each key's jobs started in push order; and the server logged no deadlock.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class ChaosTests(PostgresFixture fixture, ITestOutputHelper output)
{
    private static int Setting(string name, int fallback)
        => int.TryParse(Environment.GetEnvironmentVariable(name), out var value) ? value : fallback;

    /// <summary>A count that waits out a server restart (the test's own connections drop with it).</summary>
    private static async Task<long> Safe(Npgsql.NpgsqlDataSource db, string sql)
    {
        for (var i = 0; ; i++)
        {
            try
            {
                return await db.ScalarAsync(sql);
            }
            catch (Npgsql.NpgsqlException) when (i < 50)
            {
                await Task.Delay(200);
            }
        }
    }

    [Fact]
    public async Task Keyed_and_global_limits_and_exactly_once_hold_through_random_worker_kills_and_server_restarts()
    {
        // Environment overrides make it a soak by hand (e.g. JOBS_CHAOS_EVENTS=200 JOBS_CHAOS_SEED=7 JOBS_CHAOS_PREFETCH=20).
        const int keys = 40;
        var perKey = Setting("JOBS_CHAOS_PER_KEY", 25);
        var events = Setting("JOBS_CHAOS_EVENTS", 12);
        const int global = 10;
        var prefetch = Setting("JOBS_CHAOS_PREFETCH", 4);
        await using var cluster = await LocalPostgresCluster.StartAsync();
        var cs = cluster.ConnectionString;
        var logAt = cluster.LogLength();
        await using var setup = await TestQueue.CreateAsync(fixture, _ => { }, dataSource: PostgresJobsBuilderExtensions.CreateDataSource(cs));
        var table = await ProcessTests.CreateRunsTableAsync(setup.DataSource);
        await setup.DataSource.ExecAsync($"""
            CREATE TABLE jobs_test.{table}_keyed (job_id uuid NOT NULL, n int NOT NULL, worker text NOT NULL, started_at timestamptz NOT NULL, ended_at timestamptz);
            CREATE FUNCTION jobs_test.{table}_latest() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
              IF OLD.ended_at IS NOT NULL OR EXISTS (SELECT 1 FROM jobs_test.{table}_keyed k WHERE k.job_id = OLD.job_id AND k.started_at > OLD.started_at) THEN RETURN NULL; END IF;
              RETURN NEW; END $$;
            CREATE TRIGGER latest BEFORE UPDATE ON jobs_test.{table}_keyed FOR EACH ROW EXECUTE FUNCTION jobs_test.{table}_latest();
            """);
        var order = Enumerable.Range(0, perKey).SelectMany(place => Enumerable.Range(0, keys).Select(key => key * 1000 + place)).ToList();
        await setup.Queue.PushManyAsync(order.Select(n => new KeyedRecordJob(n)));
        var total = order.Count;
        var workers = new List<WorkerProcess>();
        var killed = new List<int>();
        var rng = new Random(Setting("JOBS_CHAOS_SEED", 1));
        try
        {
            for (var i = 0; i < 3; i++)
            {
                workers.Add(await WorkerProcess.StartAsync(cs, setup.Queue.QueueName, table, concurrency: 6, leaseSeconds: 2, workMs: 15,
                    prefetch: prefetch, globalConcurrency: global, keyed: true));
            }

            for (var k = 0; k < events; k++)
            {
                var target = await Safe(setup.DataSource, $"SELECT count(*) FROM jobs_test.{table}_keyed WHERE ended_at IS NOT NULL") + 40 + rng.Next(60);
                await TestExtensions.EventuallyAsync(
                    async () => await Safe(setup.DataSource, $"SELECT count(*) FROM jobs_test.{table}_keyed WHERE ended_at IS NOT NULL") >= Math.Min(target, total - 50),
                    seconds: 120, what: "progress");
                if (k % 4 == 3)
                {
                    await cluster.RestartAsync();
                    output.WriteLine($"restart {k}");
                    continue;
                }

                var victim = rng.Next(workers.Count);
                killed.Add(workers[victim].Id);
                workers[victim].Kill();
                workers[victim].Dispose();
                workers[victim] = await WorkerProcess.StartAsync(cs, setup.Queue.QueueName, table, concurrency: 6, leaseSeconds: 2, workMs: 15,
                    prefetch: prefetch, globalConcurrency: global, keyed: true);
                output.WriteLine($"kill {k}: pid {killed[^1]}");
            }

            await TestExtensions.EventuallyAsync(
                async () => await Safe(setup.DataSource, $"SELECT count(DISTINCT job_id) FROM jobs_test.{table}_keyed WHERE ended_at IS NOT NULL") == total,
                seconds: 300, what: $"{total} keyed jobs ended");
            await TestExtensions.EventuallyAsync(
                async () => await Safe(setup.DataSource, $"SELECT count(*) FROM jobs_test.jobs WHERE queue_name = '{setup.Queue.QueueName}' AND state IN (0,1,2)") == 0,
                seconds: 120, what: "no unfinished jobs");
            foreach (var w in workers)
            {
                Assert.Equal(0, await w.StopAsync());
            }

            var killedList = string.Join(",", killed.Select(p => $"'%:{p}:%'"));
            var states = await Safe(setup.DataSource, $"SELECT count(*) FROM jobs_test.jobs WHERE queue_name = '{setup.Queue.QueueName}' AND state <> 3");
            output.WriteLine($"jobs not completed: {states}");
            // Runs of a job more than once, where the earlier run's worker was not killed.
            var doubles = await Safe(setup.DataSource, $"""
                SELECT count(*) FROM jobs_test.{table}_keyed a JOIN jobs_test.{table}_keyed b ON a.job_id = b.job_id AND a.started_at < b.started_at
                WHERE NOT (a.worker LIKE ANY (ARRAY[{killedList}]))
                """);
            output.WriteLine($"second runs after a live worker's run: {doubles}");
            // overlap per key among runs of live workers (dead runs have no end).
            var perKeyMax = await Safe(setup.DataSource, $"""
                SELECT coalesce(max(open), 0) FROM (
                    SELECT sum(d) OVER (PARTITION BY k ORDER BY t, d ROWS UNBOUNDED PRECEDING) AS open
                    FROM (SELECT n / 1000 AS k, started_at AS t, 1 AS d FROM jobs_test.{table}_keyed WHERE ended_at IS NOT NULL
                          UNION ALL SELECT n / 1000, ended_at, -1 FROM jobs_test.{table}_keyed WHERE ended_at IS NOT NULL) e) x
                """);
            var overall = await Safe(setup.DataSource, $"""
                SELECT max(open) FROM (SELECT sum(d) OVER (ORDER BY t, d ROWS UNBOUNDED PRECEDING) AS open
                    FROM (SELECT started_at AS t, 1 AS d FROM jobs_test.{table}_keyed WHERE ended_at IS NOT NULL UNION ALL SELECT ended_at, -1 FROM jobs_test.{table}_keyed WHERE ended_at IS NOT NULL) e) x
                """);
            var outOfOrder = await Safe(setup.DataSource, $"""
                SELECT count(*) FROM (
                    SELECT n, lag(n) OVER (PARTITION BY n / 1000 ORDER BY started_at, n) AS before FROM jobs_test.{table}_keyed WHERE ended_at IS NOT NULL) x
                WHERE before > n
                """);
            var deadRuns = await Safe(setup.DataSource, $"SELECT count(*) FROM jobs_test.{table}_keyed WHERE ended_at IS NULL");
            output.WriteLine($"per key max {perKeyMax}, overall max {overall} (global {global}), out of order {outOfOrder}, dead runs {deadRuns}");
            LocalPostgresCluster.AssertNoDeadlocks(cluster.ReadLogSince(logAt));
            Assert.Equal(0L, states);
            Assert.Equal(0L, doubles);
            Assert.Equal(1L, perKeyMax);
            Assert.InRange(overall, 1, global);
            Assert.Equal(0L, outOfOrder);
        }
        finally
        {
            foreach (var w in workers)
            {
                w.Dispose();
            }
        }
    }
}
