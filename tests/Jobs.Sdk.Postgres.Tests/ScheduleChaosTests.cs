using Jobs.Sdk.Testing;
using Npgsql;
using Xunit.Abstractions;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// Schedules under faults, on the real clock: three worker processes, each connected through a proxy of its own, run the
/// same schedule (sixty entries <c>Schedule.EveryMinute(second)</c> with the default <see cref="ScheduleAccuracy.Latest"/>:
/// together a fire every second) and the jobs it pushes, while a seeded random schedule SIGKILLs a process (a new one
/// takes its place), restarts the server, cuts a process's connections, partitions one, loses the replies of its open
/// connections (statements that committed, answers that never came back), and once kills every process for a few seconds.
/// Every entry starts with history (a recorded fire before the test, as a deployment that ran before has), so the
/// documented policy decides every fire: each fire time after the history is pushed <b>exactly once</b>, the ones that
/// fell in the outage by the Latest catch-up (an outage shorter than a minute misses at most one fire per entry, so
/// Latest and All agree here). Afterwards every pushed job completed, started no earlier than its fire time, and did
/// not run again after a successful run of a worker no fault touched.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class ScheduleChaosTests(PostgresFixture fixture, ITestOutputHelper output)
{
    private const string Entry = "tick-"; // the TestWorker's entry keys: tick-00 .. tick-59 (Program.cs)

    [Fact]
    public async Task Every_fire_is_pushed_exactly_once_through_random_kills_restarts_partitions_and_lost_replies()
    {
        // JOBS_CHAOS_SEED and JOBS_CHAOS_EVENTS make it a soak by hand (each event takes one to four seconds).
        var seed = ChaosSettings.Get("JOBS_CHAOS_SEED", 1);
        var events = ChaosSettings.Get("JOBS_CHAOS_EVENTS", 7);
        var rng = new Random(seed);
        output.WriteLine($"seed {seed}, events {events}");
        await using var cluster = await LocalPostgresCluster.StartAsync();
        var direct = cluster.ConnectionString;
        await using var setup = await TestQueue.CreateAsync(fixture, _ => { }, queueName: "schedchaos_" + Guid.NewGuid().ToString("N")[..8],
            dataSource: PostgresJobsBuilderExtensions.CreateDataSource(direct));
        var db = setup.DataSource;
        var queue = setup.Queue.QueueName;
        var table = await ProcessTests.CreateRunsTableAsync(db);
        // Every job the queue stores, as it is inserted (the fire it is for from its headers), and every run of a TickJob.
        await db.ExecAsync($"""
            CREATE TABLE jobs_test.{table}_ticks (run uuid PRIMARY KEY, job_id uuid NOT NULL, second int NOT NULL, scheduled_at timestamptz,
                worker text NOT NULL, started_at timestamptz NOT NULL, ended_at timestamptz);
            CREATE TABLE jobs_test.{table}_pushes (job_id uuid NOT NULL, entry text, fire timestamptz, pushed_at timestamptz NOT NULL);
            CREATE FUNCTION jobs_test.{table}_pushed() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
              INSERT INTO jobs_test.{table}_pushes VALUES (NEW.id, NEW.headers->>'{JobHeaders.ScheduleEntry}',
                (NEW.headers->>'{JobHeaders.ScheduledAt}')::timestamptz, clock_timestamp()); RETURN NULL; END $$;
            CREATE TRIGGER {table}_pushed AFTER INSERT ON jobs_test.jobs FOR EACH ROW WHEN (NEW.queue_name = '{queue}')
              EXECUTE FUNCTION jobs_test.{table}_pushed();
            """);
        // History: each entry's latest fire time at or before now is recorded (its job long done), as if the schedule had
        // been running. From here on no fire time of any entry is "before the store knew it".
        var history = await ScalarTimeAsync(db, "SELECT date_trunc('second', clock_timestamp())");
        await db.ExecAsync($"""
            INSERT INTO jobs_test.schedule_fires (queue_name, entry_key, fire_time, job_id)
            SELECT '{queue}', '{Entry}' || lpad(s::text, 2, '0'),
                date_trunc('minute', '{history:O}'::timestamptz) + s * interval '1 second'
                    - CASE WHEN s > extract(second FROM '{history:O}'::timestamptz) THEN interval '1 minute' ELSE interval '0' END,
                gen_random_uuid()
            FROM generate_series(0, 59) s
            """);

        var proxies = new List<TcpProxy>();
        var workers = new List<WorkerProcess>();
        Task<WorkerProcess> StartWorker(TcpProxy proxy) => WorkerProcess.StartAsync(
            new NpgsqlConnectionStringBuilder(direct) { Port = proxy.Port, Timeout = 5 }.ConnectionString, queue, table, concurrency: 4,
            leaseSeconds: 2, workMs: 20, recordConnectionString: direct, ticks: true);
        try
        {
            for (var i = 0; i < 3; i++)
            {
                proxies.Add(TcpProxy.Start("127.0.0.1", new NpgsqlConnectionStringBuilder(direct).Port));
            }

            workers.AddRange(await Task.WhenAll(proxies.Select(StartWorker)));
            var faults = new ChaosFaults(cluster, proxies, workers, StartWorker, rng, output);

            // Every kind of fault at least once (events >= 5), in a seeded order, and the outage halfway.
            var kinds = Enumerable.Range(0, events).Select(i => i % 5).OrderBy(_ => rng.Next()).ToList();
            kinds.Insert(events / 2, -1);
            for (var k = 0; k < kinds.Count; k++)
            {
                await Task.Delay(500 + rng.Next(1500)); // the chaos schedule (fires keep coming on the real clock), not a synchronisation
                if (kinds[k] < 0)
                {
                    _ = rng.Next(workers.Count); // the victim draw of every event, so that a seed replays the same faults
                    // Every scheduler down: the fires meanwhile are pushed by the Latest catch-up of the processes started after.
                    foreach (var w in workers)
                    {
                        faults.Faulted.Add(w.Id);
                        w.Kill();
                        w.Dispose();
                    }

                    var down = 1000 + rng.Next(3000);
                    await Task.Delay(down);
                    var started = await Task.WhenAll(proxies.Select(StartWorker));
                    workers.Clear();
                    workers.AddRange(started);

                    output.WriteLine($"event {k}: every process killed for {down} ms");
                    continue;
                }

                await faults.ApplyAsync((ChaosFault)kinds[k], k);
            }

            // Every fire time in (history, end] of every entry must be pushed: wait until they are (or report the missing).
            var end = await ScalarTimeAsync(db, "SELECT clock_timestamp()");
            var expected = $"""
                SELECT '{Entry}' || lpad(extract(second FROM f)::int::text, 2, '0') AS entry, f AS fire
                FROM generate_series('{history:O}'::timestamptz + interval '1 second', '{end:O}'::timestamptz, interval '1 second') f
                """;
            var missing = $"SELECT count(*) FROM ({expected}) e WHERE NOT EXISTS (SELECT 1 FROM jobs_test.{table}_pushes p WHERE p.entry = e.entry AND p.fire = e.fire)";
            try
            {
                await TestExtensions.EventuallyAsync(async () => await ChaosFaults.CountAsync(db, missing) == 0, seconds: 90, what: "every fire time pushed");
            }
            catch (TimeoutException)
            {
                // Reported with the details below.
            }

            await TestExtensions.EventuallyAsync(
                async () => await ChaosFaults.CountAsync(db, $"SELECT count(*) FROM jobs_test.jobs WHERE queue_name = '{queue}' AND state IN (0, 1, 2) AND run_at <= '{end:O}'") == 0,
                seconds: 120, what: "every job of a fire until the end completed");
            foreach (var w in workers)
            {
                var code = await w.StopAsync();
                Assert.True(code == 0, $"pid {w.Id} exited with {code} on a graceful stop: {w.StandardError}");
            }

            var faultedList = string.Join(",", faults.Faulted.Select(p => $"'%:{p}:%'").DefaultIfEmpty("''"));
            var expectedCount = await ChaosFaults.CountAsync(db, $"SELECT count(*) FROM ({expected}) e");
            var missingCount = await ChaosFaults.CountAsync(db, missing);
            // A fire pushed twice: two jobs for one (entry, fire time).
            var twice = await ChaosFaults.CountAsync(db, $"SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM jobs_test.{table}_pushes GROUP BY entry, fire) x");
            // A fire recorded without its job (the entry is not paused, the job type not unique: every recorded fire stores one).
            var recordedWithoutJob = await ChaosFaults.CountAsync(db, $"""
                SELECT count(*) FROM jobs_test.schedule_fires f WHERE f.queue_name = '{queue}' AND f.fire_time > '{history:O}'
                    AND NOT EXISTS (SELECT 1 FROM jobs_test.{table}_pushes p WHERE p.job_id = f.job_id AND p.entry = f.entry_key AND p.fire = f.fire_time)
                """);
            var pushes = await ChaosFaults.CountAsync(db, $"SELECT count(*) FROM jobs_test.{table}_pushes");
            var notCompleted = await ChaosFaults.CountAsync(db, $"SELECT count(*) FROM jobs_test.jobs WHERE queue_name = '{queue}' AND run_at <= '{end:O}' AND state <> 3");
            var notRun = await ChaosFaults.CountAsync(db, $"""
                SELECT count(*) FROM jobs_test.{table}_pushes p WHERE p.fire <= '{end:O}'
                    AND NOT EXISTS (SELECT 1 FROM jobs_test.{table}_ticks t WHERE t.job_id = p.job_id AND t.ended_at IS NOT NULL)
                """);
            var wrongRun = await ChaosFaults.CountAsync(db, $"""
                SELECT count(*) FROM jobs_test.{table}_ticks t JOIN jobs_test.{table}_pushes p USING (job_id)
                WHERE t.scheduled_at IS DISTINCT FROM p.fire OR p.entry <> '{Entry}' || lpad(t.second::text, 2, '0')
                """);
            var early = await ChaosFaults.CountAsync(db, $"SELECT count(*) FROM jobs_test.{table}_ticks WHERE started_at < scheduled_at");
            var twiceOk = await ChaosFaults.CountAsync(db, $"""
                SELECT count(*) FROM jobs_test.{table}_ticks a JOIN jobs_test.{table}_ticks b ON a.job_id = b.job_id AND a.started_at < b.started_at
                WHERE a.ended_at IS NOT NULL AND NOT (a.worker LIKE ANY (ARRAY[{faultedList}]))
                """);
            await using (var detail = db.CreateCommand($"""
                SELECT e.entry, e.fire FROM ({expected}) e
                WHERE NOT EXISTS (SELECT 1 FROM jobs_test.{table}_pushes p WHERE p.entry = e.entry AND p.fire = e.fire) ORDER BY e.fire LIMIT 20
                """))
            await using (var reader = await detail.ExecuteReaderAsync())
            {
                while (await reader.ReadAsync())
                {
                    output.WriteLine($"never pushed: {reader.GetString(0)} at {reader.GetFieldValue<DateTimeOffset>(1):HH:mm:ss}");
                }
            }

            await using (var detail = db.CreateCommand($"""
                SELECT entry, fire, count(*), string_agg(to_char(pushed_at, 'HH24:MI:SS.US'), ', ') FROM jobs_test.{table}_pushes
                GROUP BY entry, fire HAVING count(*) > 1 ORDER BY fire LIMIT 20
                """))
            await using (var reader = await detail.ExecuteReaderAsync())
            {
                while (await reader.ReadAsync())
                {
                    output.WriteLine($"pushed {reader.GetInt64(2)} times: {reader.GetString(0)} at {reader.GetFieldValue<DateTimeOffset>(1):HH:mm:ss}, pushed at {reader.GetString(3)}");
                }
            }

            output.WriteLine($"seed {seed}: fire times {expectedCount} ({history:HH:mm:ss} to {end:HH:mm:ss}), never pushed {missingCount}, pushed twice {twice}, "
                + $"recorded without a job {recordedWithoutJob}, jobs pushed {pushes}, not completed {notCompleted}, without a successful run {notRun}, "
                + $"runs of another fire {wrongRun}, started before their fire time {early}, run again after a successful run of an unfaulted worker {twiceOk}");
            Assert.True(expectedCount >= 15, "too few fire times: the test proves little");
            Assert.Equal(0L, twice);
            Assert.Equal(0L, missingCount);
            Assert.Equal(0L, recordedWithoutJob);
            Assert.Equal(0L, notCompleted);
            Assert.Equal(0L, notRun);
            Assert.Equal(0L, wrongRun);
            Assert.Equal(0L, early);
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

    private static async Task<DateTimeOffset> ScalarTimeAsync(NpgsqlDataSource db, string sql)
    {
        object? value = null;
        for (var i = 0; ; i++)
        {
            try
            {
                await using var command = db.CreateCommand(sql);
                value = await command.ExecuteScalarAsync();
                break;
            }
            catch (NpgsqlException) when (i < 50)
            {
                await Task.Delay(200); // a server restart: the pool's connections drop with it
            }
        }

        return value is DateTime time
            ? new DateTimeOffset(DateTime.SpecifyKind(time, DateTimeKind.Utc))
            : throw new InvalidOperationException($"No time from: {sql}");
    }
}
