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
        var perKey = ChaosSettings.Get("JOBS_CHAOS_PER_KEY", 25);
        var events = ChaosSettings.Get("JOBS_CHAOS_EVENTS", 12);
        const int global = 10;
        var prefetch = ChaosSettings.Get("JOBS_CHAOS_PREFETCH", 4);
        await using var cluster = await LocalPostgresCluster.StartAsync();
        var cs = cluster.ConnectionString;
        var logAt = cluster.LogLength();
        await using var setup = await TestQueue.CreateAsync(fixture, _ => { }, dataSource: PostgresJobsBuilderExtensions.CreateDataSource(cs));
        var table = await ProcessTests.CreateRunsTableAsync(setup.DataSource);
        await KeyedRuns.CreateAsync(setup.DataSource, table);
        var order = Enumerable.Range(0, perKey).SelectMany(place => Enumerable.Range(0, keys).Select(key => key * 1000 + place)).ToList();
        await setup.Queue.PushManyAsync(order.Select(n => new KeyedRecordJob(n)));
        var total = order.Count;
        var workers = new List<WorkerProcess>();
        var killed = new List<int>();
        var rng = new Random(ChaosSettings.Get("JOBS_CHAOS_SEED", 1));
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
    [Fact]
    public async Task A_cancel_that_returned_true_sticks_and_every_other_job_completes_through_random_worker_kills_and_server_restarts()
    {
        var total = ChaosSettings.Get("JOBS_CHAOS_JOBS", 1500);
        var events = ChaosSettings.Get("JOBS_CHAOS_EVENTS", 12);
        var prefetch = ChaosSettings.Get("JOBS_CHAOS_PREFETCH", 4);
        await using var cluster = await LocalPostgresCluster.StartAsync();
        var cs = cluster.ConnectionString;
        var logAt = cluster.LogLength();
        await using var setup = await TestQueue.CreateAsync(fixture, _ => { }, dataSource: PostgresJobsBuilderExtensions.CreateDataSource(cs));
        var db = setup.DataSource;
        var table = await ProcessTests.CreateRunsTableAsync(db);
        // Every run's span (a job run again after its worker died has two); an end closes only the job's latest span.
        await RunSpans.CreateAsync(db, table);
        await db.ExecAsync($"CREATE TABLE jobs_test.{table}_cancels (job_id uuid PRIMARY KEY, returned_at timestamptz NOT NULL, state_after smallint)");
        var ids = new List<JobId>(total);
        foreach (var chunk in Enumerable.Range(0, total).Chunk(500))
        {
            ids.AddRange(await setup.Queue.PushManyAsync(chunk.Select(i => new RecordJob(i))));
        }

        var workers = new List<WorkerProcess>();
        var rng = new Random(ChaosSettings.Get("JOBS_CHAOS_SEED", 1));
        using var stop = new CancellationTokenSource();
        var cancelled = 0;
        // An operator cancelling random jobs (waiting or running) all along; each cancel that returned true is recorded
        // with the database clock read after it returned.
        var unknown = new List<JobId>();
        var canceller = Task.Run(async () =>
        {
            var pick = new Random(ChaosSettings.Get("JOBS_CHAOS_SEED", 1) + 1);
            while (!stop.IsCancellationRequested)
            {
                var id = ids[pick.Next(ids.Count)];
                bool done;
                try
                {
                    done = await setup.Queue.CancelAsync(id, stop.Token);
                }
                catch (Exception ex) when (ex is Npgsql.NpgsqlException or JobsException or OperationCanceledException)
                {
                    unknown.Add(id); // the server restarting, or the end of the test: whether it was cancelled is not known
                    continue;
                }

                if (done)
                {
                    await Safe(db, $"INSERT INTO jobs_test.{table}_cancels SELECT '{id}', clock_timestamp(), (SELECT state FROM jobs_test.jobs WHERE id = '{id}') ON CONFLICT DO NOTHING RETURNING 1");
                    Interlocked.Increment(ref cancelled);
                }
            }
        });
        try
        {
            for (var i = 0; i < 3; i++)
            {
                workers.Add(await WorkerProcess.StartAsync(cs, setup.Queue.QueueName, table, concurrency: 6, leaseSeconds: 2, workMs: 15,
                    prefetch: prefetch, globalConcurrency: 100));
            }

            var runs = $"SELECT count(*) FROM jobs_test.{table}_spans";
            for (var k = 0; k < events; k++)
            {
                var target = await Safe(db, runs) + 40 + rng.Next(60);
                await TestExtensions.EventuallyAsync(async () => await Safe(db, runs) >= target
                    || await Safe(db, $"SELECT count(*) FROM jobs_test.jobs WHERE queue_name = '{setup.Queue.QueueName}' AND state IN (0, 2)") < 100, seconds: 120, what: "progress");
                if (k % 4 == 3)
                {
                    await cluster.RestartAsync();
                    continue;
                }

                var victim = rng.Next(workers.Count);
                workers[victim].Kill();
                workers[victim].Dispose();
                workers[victim] = await WorkerProcess.StartAsync(cs, setup.Queue.QueueName, table, concurrency: 6, leaseSeconds: 2, workMs: 15,
                    prefetch: prefetch, globalConcurrency: 100);
            }

            await stop.CancelAsync();
            await canceller;
            await TestExtensions.EventuallyAsync(
                async () => await Safe(db, $"SELECT count(*) FROM jobs_test.jobs WHERE queue_name = '{setup.Queue.QueueName}' AND state IN (0,1,2)") == 0,
                seconds: 180, what: "no unfinished jobs");
            foreach (var w in workers)
            {
                Assert.Equal(0, await w.StopAsync());
            }

            // A run that started after its cancel returned true: never for a job that was waiting then (the cancel ended
            // it), nor a second run of one that was running (a rescue ends it cancelled). A running job's one claim may
            // still start its handler late (a prefetched job whose cancel notification was lost in a restart learns of
            // it at its next lease renewal, as poll-only workers do).
            const string Late = """
                s.started_at > c.returned_at AND (c.state_after IS DISTINCT FROM 1
                    OR EXISTS (SELECT 1 FROM jobs_test.{0}_spans e WHERE e.job_id = s.job_id AND e.started_at < s.started_at))
                """;
            var late = string.Format(System.Globalization.CultureInfo.InvariantCulture, Late, table);
            var lateRuns = await db.ScalarAsync($"SELECT count(*) FROM jobs_test.{table}_spans s JOIN jobs_test.{table}_cancels c USING (job_id) WHERE {late}");
            var missing = await db.ScalarAsync($"""
                SELECT count(*) FROM unnest(ARRAY[{string.Join(",", ids.Select(i => $"'{i}'::uuid"))}]) AS j(id)
                WHERE NOT EXISTS (SELECT 1 FROM jobs_test.{table} r WHERE r.job_id = j.id)
                  AND NOT EXISTS (SELECT 1 FROM jobs_test.{table}_cancels c WHERE c.job_id = j.id)
                  AND j.id <> ALL (ARRAY[{string.Join(",", unknown.Select(i => $"'{i}'::uuid").DefaultIfEmpty("NULL::uuid"))}])
                """);
            var notFinished = await db.ScalarAsync($"SELECT count(*) FROM jobs_test.jobs WHERE queue_name = '{setup.Queue.QueueName}' AND state NOT IN (3, 4, 5)");
            await using (var detail = db.CreateCommand($"""
                SELECT s.job_id::text, c.state_after, c.returned_at, s.started_at, s.ended_at,
                       (SELECT count(*) FROM jobs_test.{table}_spans x WHERE x.job_id = s.job_id)
                FROM jobs_test.{table}_spans s JOIN jobs_test.{table}_cancels c USING (job_id) WHERE s.started_at > c.returned_at
                """))
            await using (var reader = await detail.ExecuteReaderAsync())
            {
                while (await reader.ReadAsync())
                {
                    output.WriteLine($"late run: job {reader.GetString(0)} state after cancel {(reader.IsDBNull(1) ? "gone" : reader.GetInt16(1))}, cancel returned {reader.GetDateTime(2):HH:mm:ss.ffffff}, run {reader.GetDateTime(3):HH:mm:ss.ffffff}-{(reader.IsDBNull(4) ? "none" : reader.GetDateTime(4).ToString("HH:mm:ss.ffffff"))}, spans {reader.GetInt64(5)}");
                }
            }

            output.WriteLine($"cancelled (true): {cancelled}, runs started after their cancel returned: {lateRuns}, neither completed nor cancelled: {missing}, unfinished rows: {notFinished}");
            LocalPostgresCluster.AssertNoDeadlocks(cluster.ReadLogSince(logAt));
            Assert.True(cancelled > 0, "no cancel returned true: the test proves nothing");
            Assert.Equal(0L, lateRuns);
            Assert.Equal(0L, missing);
            Assert.Equal(0L, notFinished);
        }
        finally
        {
            await stop.CancelAsync();
            foreach (var w in workers)
            {
                w.Dispose();
            }
        }
    }
}
