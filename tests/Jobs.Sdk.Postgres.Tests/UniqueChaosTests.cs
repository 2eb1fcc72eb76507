using Jobs.Sdk.Testing;
using Npgsql;
using Xunit.Abstractions;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// Unique jobs under faults: three worker processes, each connected through a proxy of its own, push a unique job type
/// (8 keys, <c>UniqueFor</c> one second) as fast as they can with <c>TryPushAsync</c> and run its jobs, while a seeded
/// random schedule SIGKILLs a process (a new one takes its place), restarts the server, cuts a process's connections or
/// loses the replies of its open connections (pushes and outcomes that committed, answers that never came back). Triggers
/// on the jobs table record each job's life on the database clock: the time of its insert (the statement's, not its
/// transaction's: a push whose transaction began before a rescue pass deleted the expired holder stores its job after it),
/// its finish, its deletion. Afterwards: no job of a key was stored while another job of the key was waiting or running, nor within
/// <c>UniqueFor</c> of the previous one's finish; every job completed; none ran again after a successful run of a worker
/// no fault touched.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class UniqueChaosTests(PostgresFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public async Task One_live_job_per_unique_key_and_UniqueFor_hold_through_random_kills_restarts_cuts_and_lost_replies()
    {
        // JOBS_CHAOS_SEED and JOBS_CHAOS_EVENTS make it a soak by hand.
        const int keys = 8;
        var seed = ChaosSettings.Get("JOBS_CHAOS_SEED", 1);
        var events = ChaosSettings.Get("JOBS_CHAOS_EVENTS", 7);
        var rng = new Random(seed);
        output.WriteLine($"seed {seed}, events {events}");
        await using var cluster = await LocalPostgresCluster.StartAsync();
        var direct = cluster.ConnectionString;
        await using var setup = await TestQueue.CreateAsync(fixture, _ => { }, queueName: "unqchaos_" + Guid.NewGuid().ToString("N")[..8],
            dataSource: PostgresJobsBuilderExtensions.CreateDataSource(direct));
        var db = setup.DataSource;
        var queue = setup.Queue.QueueName;
        var table = await ProcessTests.CreateRunsTableAsync(db);
        await db.ExecAsync($"""
            CREATE TABLE jobs_test.{table}_unique (run uuid PRIMARY KEY, job_id uuid NOT NULL, key int NOT NULL, worker text NOT NULL,
                started_at timestamptz NOT NULL, ended_at timestamptz);
            CREATE TABLE jobs_test.{table}_life (job_id uuid PRIMARY KEY, key text, unique_for interval, pushed_at timestamptz NOT NULL,
                finished_at timestamptz, state smallint, reopened boolean NOT NULL DEFAULT false, deleted_at timestamptz);
            CREATE FUNCTION jobs_test.{table}_life() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
              IF TG_OP = 'INSERT' THEN
                INSERT INTO jobs_test.{table}_life (job_id, key, unique_for, pushed_at) VALUES (NEW.id, NEW.unique_key, NEW.unique_for, clock_timestamp());
              ELSIF TG_OP = 'DELETE' THEN
                UPDATE jobs_test.{table}_life SET deleted_at = now() WHERE job_id = OLD.id;
              ELSIF NEW.state IN (3, 4, 5) AND OLD.state NOT IN (3, 4, 5) THEN
                UPDATE jobs_test.{table}_life SET finished_at = NEW.finished_at, state = NEW.state WHERE job_id = NEW.id;
              ELSIF OLD.state IN (3, 4, 5) AND NEW.state NOT IN (3, 4, 5) THEN
                UPDATE jobs_test.{table}_life SET reopened = true WHERE job_id = NEW.id;
              END IF;
              RETURN NULL; END $$;
            CREATE TRIGGER {table}_life AFTER INSERT OR UPDATE OR DELETE ON jobs_test.jobs FOR EACH ROW EXECUTE FUNCTION jobs_test.{table}_life();
            """);

        var proxies = new List<TcpProxy>();
        var workers = new List<WorkerProcess>();
        Task<WorkerProcess> StartWorker(TcpProxy proxy, bool push = true) => WorkerProcess.StartAsync(
            new NpgsqlConnectionStringBuilder(direct) { Port = proxy.Port, Timeout = 5 }.ConnectionString, queue, table, concurrency: 4,
            leaseSeconds: 2, workMs: 40, recordConnectionString: direct, uniquePushKeys: push ? keys : 0);
        try
        {
            for (var i = 0; i < 3; i++)
            {
                proxies.Add(TcpProxy.Start("127.0.0.1", new NpgsqlConnectionStringBuilder(direct).Port));
            }

            workers.AddRange(await Task.WhenAll(proxies.Select(p => StartWorker(p))));
            var faults = new ChaosFaults(cluster, proxies, workers, p => StartWorker(p), rng, output);

            // Every kind at least once (events >= 4), in a seeded order.
            ChaosFault[] kindsOf = [ChaosFault.Kill, ChaosFault.ServerRestart, ChaosFault.Cut, ChaosFault.LostReplies];
            var kinds = Enumerable.Range(0, events).Select(i => kindsOf[i % kindsOf.Length]).OrderBy(_ => rng.Next()).ToList();
            for (var k = 0; k < kinds.Count; k++)
            {
                await Task.Delay(500 + rng.Next(1500)); // the chaos schedule (the processes push all along), not a synchronisation
                await faults.ApplyAsync(kinds[k], k);
            }

            // The pushers stop (a graceful stop of each process); workers that push nothing drain the queue.
            foreach (var w in workers)
            {
                await StopAsync(w);
                w.Dispose();
            }

            var drainers = await Task.WhenAll(proxies.Select(p => StartWorker(p, push: false)));
            workers.Clear();
            workers.AddRange(drainers);

            await TestExtensions.EventuallyAsync(
                async () => await ChaosFaults.CountAsync(db, $"SELECT count(*) FROM jobs_test.jobs WHERE queue_name = '{queue}' AND state IN (0, 1, 2)") == 0,
                seconds: 120, what: "no unfinished jobs");
            foreach (var w in workers)
            {
                await StopAsync(w);
            }

            var faultedList = string.Join(",", faults.Faulted.Select(p => $"'%:{p}:%'").DefaultIfEmpty("''"));
            var pushed = await ChaosFaults.CountAsync(db, $"SELECT count(*) FROM jobs_test.{table}_life");
            var keyless = await ChaosFaults.CountAsync(db, $"SELECT count(*) FROM jobs_test.{table}_life WHERE key IS NULL OR unique_for IS DISTINCT FROM interval '1 second'");
            // A job of a key stored while an earlier one of the key had not finished (waiting, running or retrying).
            var whileLive = await ChaosFaults.CountAsync(db, $"""
                SELECT count(*) FROM jobs_test.{table}_life a JOIN jobs_test.{table}_life b ON a.key = b.key AND a.job_id <> b.job_id
                WHERE a.pushed_at <= b.pushed_at AND (a.finished_at IS NULL OR a.finished_at > b.pushed_at)
                """);
            // A job of a key stored within UniqueFor of the finish of an earlier one of the key.
            var withinUniqueFor = await ChaosFaults.CountAsync(db, $"""
                SELECT count(*) FROM jobs_test.{table}_life a JOIN jobs_test.{table}_life b ON a.key = b.key AND a.job_id <> b.job_id
                WHERE a.pushed_at <= b.pushed_at AND a.finished_at <= b.pushed_at AND b.pushed_at < a.finished_at + a.unique_for
                """);
            var successors = await ChaosFaults.CountAsync(db, $"""
                SELECT count(*) FROM jobs_test.{table}_life b WHERE EXISTS (
                    SELECT 1 FROM jobs_test.{table}_life a WHERE a.key = b.key AND a.pushed_at < b.pushed_at)
                """);
            var reopened = await ChaosFaults.CountAsync(db, $"SELECT count(*) FROM jobs_test.{table}_life WHERE reopened");
            var notCompleted = await ChaosFaults.CountAsync(db, $"SELECT count(*) FROM jobs_test.{table}_life WHERE state IS DISTINCT FROM 3");
            var notRun = await ChaosFaults.CountAsync(db, $"""
                SELECT count(*) FROM jobs_test.{table}_life l
                WHERE NOT EXISTS (SELECT 1 FROM jobs_test.{table}_unique r WHERE r.job_id = l.job_id AND r.ended_at IS NOT NULL)
                """);
            var twiceOk = await ChaosFaults.CountAsync(db, $"""
                SELECT count(*) FROM jobs_test.{table}_unique a JOIN jobs_test.{table}_unique b ON a.job_id = b.job_id AND a.started_at < b.started_at
                WHERE a.ended_at IS NOT NULL AND NOT (a.worker LIKE ANY (ARRAY[{faultedList}]))
                """);
            // Two runs of jobs of one key at once, among runs that ended (a killed worker's run has no end).
            var keyOverlap = await ChaosFaults.CountAsync(db, $"""
                SELECT count(*) FROM jobs_test.{table}_unique a JOIN jobs_test.{table}_unique b ON a.key = b.key AND a.job_id <> b.job_id
                WHERE a.ended_at IS NOT NULL AND a.started_at <= b.started_at AND b.started_at < a.ended_at
                """);
            await using (var detail = db.CreateCommand($"""
                SELECT a.key, a.job_id::text, a.pushed_at, a.finished_at, b.job_id::text, b.pushed_at
                FROM jobs_test.{table}_life a JOIN jobs_test.{table}_life b ON a.key = b.key AND a.job_id <> b.job_id
                WHERE a.pushed_at <= b.pushed_at AND (a.finished_at IS NULL OR b.pushed_at < a.finished_at + a.unique_for) ORDER BY b.pushed_at LIMIT 20
                """))
            await using (var reader = await detail.ExecuteReaderAsync())
            {
                while (await reader.ReadAsync())
                {
                    output.WriteLine($"key {reader.GetString(0)}: job {reader.GetString(4)} stored at {reader.GetDateTime(5):HH:mm:ss.ffffff} while job {reader.GetString(1)} "
                        + $"(stored {reader.GetDateTime(2):HH:mm:ss.ffffff}) finished {(reader.IsDBNull(3) ? "never" : reader.GetDateTime(3).ToString("HH:mm:ss.ffffff"))}");
                }
            }

            output.WriteLine($"seed {seed}: jobs stored {pushed} (after an earlier one of their key {successors}), without the key or its UniqueFor {keyless}, "
                + $"stored while one of the key was unfinished {whileLive}, within UniqueFor of its finish {withinUniqueFor}, finished then put back {reopened}, "
                + $"not completed {notCompleted}, without a successful run {notRun}, run again after a successful run of an unfaulted worker {twiceOk}, "
                + $"runs of one key overlapping {keyOverlap}");
            Assert.True(successors >= keys, "too few keys were pushed again after their hold: the test proves little");
            Assert.Equal(0L, keyless);
            Assert.Equal(0L, whileLive);
            Assert.Equal(0L, withinUniqueFor);
            Assert.Equal(0L, keyOverlap);
            Assert.Equal(0L, reopened);
            Assert.Equal(0L, notCompleted);
            Assert.Equal(0L, notRun);
            Assert.Equal(0L, twiceOk);
        }
        finally
        {
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

    /// <summary>Stops <paramref name="worker"/> gracefully; fails with what it wrote to stderr when it did not exit with 0.</summary>
    private async Task StopAsync(WorkerProcess worker)
    {
        var code = await worker.StopAsync();
        if (code != 0)
        {
            output.WriteLine($"pid {worker.Id} exited with {code}:\n{worker.StandardError}");
        }

        Assert.True(code == 0, $"pid {worker.Id} exited with {code} on a graceful stop: {worker.StandardError}");
    }
}
