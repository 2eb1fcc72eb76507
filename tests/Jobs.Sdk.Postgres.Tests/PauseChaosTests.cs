using Jobs.Sdk.Testing;
using Npgsql;
using Xunit.Abstractions;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// Queue pause under faults: three worker processes with prefetch, each connected through a proxy of its own, drain keyed
/// jobs while an operator pauses and resumes the queue at random and a seeded schedule SIGKILLs a worker (a new one takes
/// its place), partitions one for longer than the lease, or cuts its connections. Every claim is recorded by a trigger on
/// the jobs table (its transaction's time), every run on direct connections, and every pause with the database clock read
/// after <c>PauseQueueAsync</c> returned and before <c>ResumeQueueAsync</c> was called. Afterwards: no claim began while
/// the queue was paused; every job completed with exactly one successful run; no two runs of a job overlapped; only a
/// killed worker's runs have no end; and a handler started in a paused interval only for a claim made before it.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class PauseChaosTests(PostgresFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public async Task No_claim_starts_while_the_queue_is_paused_and_every_job_runs_once_through_random_pauses_kills_and_partitions()
    {
        // JOBS_CHAOS_SEED, JOBS_CHAOS_EVENTS, JOBS_CHAOS_PER_KEY, JOBS_CHAOS_PREFETCH make it a soak by hand.
        const int keys = 40;
        var perKey = ChaosSettings.Get("JOBS_CHAOS_PER_KEY", 15);
        var events = ChaosSettings.Get("JOBS_CHAOS_EVENTS", 8);
        var prefetch = ChaosSettings.Get("JOBS_CHAOS_PREFETCH", 6);
        var seed = ChaosSettings.Get("JOBS_CHAOS_SEED", 1);
        var rng = new Random(seed);
        await using var cluster = await LocalPostgresCluster.StartAsync();
        var direct = cluster.ConnectionString;
        await using var setup = await TestQueue.CreateAsync(fixture, _ => { }, dataSource: PostgresJobsBuilderExtensions.CreateDataSource(direct));
        var db = setup.DataSource;
        var queue = setup.Queue.QueueName;
        var table = await ProcessTests.CreateRunsTableAsync(db);
        await db.ExecAsync($"""
            CREATE TABLE jobs_test.{table}_keyed (lease uuid PRIMARY KEY, job_id uuid NOT NULL, n int NOT NULL, worker text NOT NULL,
                started_at timestamptz NOT NULL, ended_at timestamptz, ok boolean);
            CREATE TABLE jobs_test.{table}_claims (job_id uuid NOT NULL, token uuid NOT NULL, worker text, claimed_at timestamptz NOT NULL, prefetched boolean NOT NULL);
            CREATE TABLE jobs_test.{table}_pauses (paused_at timestamptz NOT NULL, resuming_at timestamptz);
            CREATE FUNCTION jobs_test.{table}_claimed() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
              INSERT INTO jobs_test.{table}_claims VALUES (NEW.id, NEW.lease_token, NEW.worker_id, now(), NEW.started_at IS NULL); RETURN NULL; END $$;
            CREATE TRIGGER {table}_claimed AFTER UPDATE ON jobs_test.jobs FOR EACH ROW
              WHEN (NEW.state = 1 AND NEW.lease_token IS NOT NULL AND NEW.lease_token IS DISTINCT FROM OLD.lease_token)
              EXECUTE FUNCTION jobs_test.{table}_claimed();
            """);
        var order = Enumerable.Range(0, perKey).SelectMany(place => Enumerable.Range(0, keys).Select(key => key * 1000 + place)).ToList();
        await setup.Queue.PushManyAsync(order.Select(n => new KeyedRecordJob(n)));
        var total = order.Count;

        var proxies = new List<TcpProxy>();
        var workers = new List<WorkerProcess>();
        var killed = new List<int>();
        var faulted = new List<int>(); // killed, cut or partitioned: a run of theirs may have ended without its outcome reaching the store
        using var stop = new CancellationTokenSource();
        var pauses = 0;
        Task? pauser = null;
        Task<WorkerProcess> StartWorker(TcpProxy proxy) => WorkerProcess.StartAsync(
            new NpgsqlConnectionStringBuilder(direct) { Port = proxy.Port, Timeout = 5 }.ConnectionString, queue, table, concurrency: 4,
            leaseSeconds: 2, workMs: 30, prefetch: prefetch, keyed: true, recordConnectionString: direct);
        try
        {
            for (var i = 0; i < 3; i++)
            {
                proxies.Add(TcpProxy.Start("127.0.0.1", new NpgsqlConnectionStringBuilder(direct).Port));
                workers.Add(await StartWorker(proxies[i]));
            }

            var ended = $"SELECT count(*) FROM jobs_test.{table}_keyed WHERE ok";
            // The operator: pauses, holds the pause a random while, resumes, lets some runs complete, and again.
            pauser = Task.Run(async () =>
            {
                var pick = new Random(seed + 1);
                while (!stop.IsCancellationRequested)
                {
                    await setup.Queue.PauseQueueAsync(queue, "chaos", CancellationToken.None);
                    await db.ExecAsync($"INSERT INTO jobs_test.{table}_pauses (paused_at) VALUES (clock_timestamp())");
                    Interlocked.Increment(ref pauses);
                    await Task.Delay(100 + pick.Next(700), CancellationToken.None); // the chaos schedule, not a synchronisation
                    await db.ExecAsync($"UPDATE jobs_test.{table}_pauses SET resuming_at = clock_timestamp() WHERE resuming_at IS NULL");
                    await setup.Queue.ResumeQueueAsync(queue, CancellationToken.None);
                    var before = await db.ScalarAsync(ended);
                    var during = 20 + pick.Next(80);
                    try
                    {
                        await TestExtensions.EventuallyAsync(async () => stop.IsCancellationRequested || await db.ScalarAsync(ended) >= Math.Min(before + during, total),
                            seconds: 120, what: $"{during} runs after a resume");
                    }
                    catch (Exception) when (stop.IsCancellationRequested)
                    {
                    }

                    if (await db.ScalarAsync(ended) >= total)
                    {
                        break;
                    }
                }
            });

            for (var k = 0; k < events; k++)
            {
                var before = await db.ScalarAsync(ended);
                var during = 40 + rng.Next(80);
                if (before >= total - during)
                {
                    break;
                }

                var victim = rng.Next(proxies.Count);
                faulted.Add(workers[victim].Id);
                switch (rng.Next(3))
                {
                    case 0:
                        killed.Add(workers[victim].Id);
                        workers[victim].Kill();
                        workers[victim].Dispose();
                        workers[victim] = await StartWorker(proxies[victim]);
                        output.WriteLine($"event {k}: killed pid {killed[^1]}");
                        break;
                    case 1:
                        proxies[victim].CutAll();
                        output.WriteLine($"event {k}: cut a worker's connections");
                        break;
                    default:
                        proxies[victim].Stall();
                        try
                        {
                            await TestExtensions.EventuallyAsync(async () => await db.ScalarAsync(ended) >= before + during, seconds: 120,
                                what: $"{during} runs completed by the others during a partition");
                        }
                        finally
                        {
                            proxies[victim].Resume();
                        }


                        output.WriteLine($"event {k}: partitioned a worker for {during} runs of the others");
                        break;
                }

                await TestExtensions.EventuallyAsync(async () => await db.ScalarAsync(ended) >= Math.Min(before + during, total), seconds: 120, what: "progress");
            }

            await TestExtensions.EventuallyAsync(
                async () => await db.ScalarAsync($"SELECT count(*) FROM jobs_test.jobs WHERE queue_name = '{queue}' AND state IN (0, 1, 2)") == 0,
                seconds: 180, what: "no unfinished jobs");
            await stop.CancelAsync();
            await pauser;
            await setup.Queue.ResumeQueueAsync(queue);
            foreach (var w in workers)
            {
                Assert.Equal(0, await w.StopAsync());
            }

            var killedList = string.Join(",", killed.Select(p => $"'%:{p}:%'").DefaultIfEmpty("''"));
            var notCompleted = await db.ScalarAsync($"SELECT count(*) FROM jobs_test.jobs WHERE queue_name = '{queue}' AND state <> 3");
            var oks = await db.ScalarAsync($"SELECT count(DISTINCT job_id) FROM jobs_test.{table}_keyed WHERE ok");
            var faultedList = string.Join(",", faulted.Select(p => $"'%:{p}:%'").DefaultIfEmpty("''"));
            // A job run again after a successful run of a worker that no fault hit (its outcome was reported, or should have been).
            var twiceOk = await db.ScalarAsync($"""
                SELECT count(*) FROM jobs_test.{table}_keyed a JOIN jobs_test.{table}_keyed b ON a.job_id = b.job_id AND a.started_at < b.started_at
                WHERE a.ok AND NOT (a.worker LIKE ANY (ARRAY[{faultedList}]))
                """);
            var unended = await db.ScalarAsync($"SELECT count(*) FROM jobs_test.{table}_keyed WHERE ended_at IS NULL AND NOT (worker LIKE ANY (ARRAY[{killedList}]))");
            var failedRuns = await db.ScalarAsync($"SELECT count(*) FROM jobs_test.{table}_keyed WHERE ok IS NOT TRUE AND NOT (worker LIKE ANY (ARRAY[{faultedList}]))");
            // Attempts counted: one per handler start (a released or rescued claim that never started gives its attempt back),
            // for jobs no fault touched (a kill can leave a buffered start unrecorded; a partition can count a lost claim).
            var miscounted = await db.ScalarAsync($"""
                SELECT count(*) FROM jobs_test.jobs j WHERE j.queue_name = '{queue}'
                    AND j.attempts <> (SELECT count(*) FROM jobs_test.{table}_keyed r WHERE r.job_id = j.id)
                    AND NOT EXISTS (SELECT 1 FROM jobs_test.{table}_claims c WHERE c.job_id = j.id AND c.worker LIKE ANY (ARRAY[{faultedList}]))
                """);
            var overlapping = await db.ScalarAsync($"""
                SELECT count(*) FROM jobs_test.{table}_keyed a JOIN jobs_test.{table}_keyed b
                    ON a.job_id = b.job_id AND a.lease <> b.lease AND a.started_at <= b.started_at AND b.started_at < a.ended_at
                """);
            // A claim whose transaction began after a pause returned and before the resume was called.
            var pausedClaims = await db.ScalarAsync($"""
                SELECT count(*) FROM jobs_test.{table}_claims c JOIN jobs_test.{table}_pauses p
                    ON c.claimed_at > p.paused_at AND c.claimed_at < coalesce(p.resuming_at, 'infinity')
                """);
            // A handler that started in a paused interval for a claim (its job's latest before the start) made after the pause returned.
            var pausedRuns = await db.ScalarAsync($"""
                SELECT count(*) FROM jobs_test.{table}_keyed r JOIN jobs_test.{table}_pauses p
                    ON r.started_at > p.paused_at AND r.started_at < coalesce(p.resuming_at, 'infinity')
                WHERE (SELECT max(c.claimed_at) FROM jobs_test.{table}_claims c WHERE c.job_id = r.job_id AND c.claimed_at < r.started_at) > p.paused_at
                """);
            var earlyRuns = await db.ScalarAsync($"""
                SELECT count(*) FROM jobs_test.{table}_keyed r JOIN jobs_test.{table}_pauses p
                    ON r.started_at > p.paused_at AND r.started_at < coalesce(p.resuming_at, 'infinity')
                """);
            var claims = await db.ScalarAsync($"SELECT count(*) FROM jobs_test.{table}_claims");
            await using (var detail = db.CreateCommand($"""
                SELECT c.job_id::text, c.worker, c.claimed_at, p.paused_at, p.resuming_at FROM jobs_test.{table}_claims c JOIN jobs_test.{table}_pauses p
                    ON c.claimed_at > p.paused_at AND c.claimed_at < coalesce(p.resuming_at, 'infinity') LIMIT 10
                """))
            await using (var reader = await detail.ExecuteReaderAsync())
            {
                while (await reader.ReadAsync())
                {
                    output.WriteLine($"claim in a pause: job {reader.GetString(0)} by {reader.GetString(1)} at {reader.GetDateTime(2):HH:mm:ss.ffffff}, paused {reader.GetDateTime(3):HH:mm:ss.ffffff}-{(reader.IsDBNull(4) ? "end" : reader.GetDateTime(4).ToString("HH:mm:ss.ffffff"))}");
                }
            }

            await using (var detail = db.CreateCommand($"""
                SELECT r.worker, extract(epoch FROM r.started_at - p.paused_at) * 1000, c.prefetched, extract(epoch FROM p.paused_at - c.claimed_at) * 1000
                FROM jobs_test.{table}_keyed r JOIN jobs_test.{table}_pauses p ON r.started_at > p.paused_at AND r.started_at < coalesce(p.resuming_at, 'infinity')
                CROSS JOIN LATERAL (SELECT * FROM jobs_test.{table}_claims c WHERE c.job_id = r.job_id AND c.claimed_at < r.started_at ORDER BY c.claimed_at DESC LIMIT 1) c
                ORDER BY 2 DESC LIMIT 20
                """))
            await using (var reader = await detail.ExecuteReaderAsync())
            {
                while (await reader.ReadAsync())
                {
                    output.WriteLine($"started in a pause: by {reader.GetString(0)} {reader.GetDecimal(1):0.0} ms after the pause returned, prefetched {reader.GetBoolean(2)}, claimed {reader.GetDecimal(3):0.0} ms before it");
                }
            }

            output.WriteLine($"seed {seed}: pauses {pauses}, claims {claims}, claims in a pause {pausedClaims}, handlers started in a pause {earlyRuns} (of a claim made in it {pausedRuns}), "
                + $"jobs with a successful run {oks} of {total}, run again after a successful run of an unfaulted worker {twiceOk}, overlapping runs {overlapping}, attempts miscounted {miscounted}, runs of unfaulted workers that did not succeed {failedRuns}, unended runs of live workers {unended}, not completed {notCompleted}");
            Assert.True(pauses > 0, "the queue was never paused: the test proves nothing");
            Assert.Equal(0L, pausedClaims);
            Assert.Equal(0L, pausedRuns);
            Assert.Equal(0L, notCompleted);
            Assert.Equal((long)total, oks);
            Assert.Equal(0L, twiceOk);
            Assert.Equal(0L, overlapping);
            Assert.Equal(0L, failedRuns);
            Assert.Equal(0L, miscounted);
            Assert.Equal(0L, unended);
        }
        finally
        {
            await stop.CancelAsync();
            if (pauser is not null)
            {
                await Task.WhenAny(pauser);
            }

            foreach (var w in workers)
            {
                w.Dispose();
            }

            foreach (var p in proxies)
            {
                await p.DisposeAsync();
            }
        }
    }
}
