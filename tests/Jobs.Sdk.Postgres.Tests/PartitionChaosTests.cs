using Jobs.Sdk.Testing;
using Npgsql;
using Xunit.Abstractions;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// Partitions under load: three worker processes, each connected through a proxy of its own, drain keyed jobs (limit 1
/// per key, 40 keys) under a cluster-wide limit of 10, with prefetch, while a seeded random schedule partitions one worker at a time,
/// sometimes for longer than the lease (its bytes held, as a network that drops packets does), sometimes by cutting its
/// connections. Runs are recorded on direct connections, with the end of every run (also cancelled ones). Afterwards every
/// job completed, no two runs of a job overlapped (a partitioned worker's handler stopped before another worker took the
/// job over), no key ever had two runs at once, and no more than 10 ran at once.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class PartitionChaosTests(PostgresFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public async Task No_job_runs_twice_at_once_and_keyed_and_global_limits_hold_through_random_partitions()
    {
        const int keys = 40;
        const int global = 10;
        var perKey = ChaosSettings.Get("JOBS_CHAOS_PER_KEY", 40);
        var events = ChaosSettings.Get("JOBS_CHAOS_EVENTS", 10);
        var prefetch = ChaosSettings.Get("JOBS_CHAOS_PREFETCH", 4);
        var rng = new Random(ChaosSettings.Get("JOBS_CHAOS_SEED", 1));
        await using var cluster = await LocalPostgresCluster.StartAsync();
        var direct = cluster.ConnectionString;
        await using var setup = await TestQueue.CreateAsync(fixture, _ => { }, dataSource: PostgresJobsBuilderExtensions.CreateDataSource(direct));
        var db = setup.DataSource;
        var table = await ProcessTests.CreateRunsTableAsync(db);
        await db.ExecAsync($"""
            CREATE TABLE jobs_test.{table}_keyed (lease uuid PRIMARY KEY, job_id uuid NOT NULL, n int NOT NULL, worker text NOT NULL,
                started_at timestamptz NOT NULL, ended_at timestamptz, ok boolean)
            """);
        var order = Enumerable.Range(0, perKey).SelectMany(place => Enumerable.Range(0, keys).Select(key => key * 1000 + place)).ToList();
        await setup.Queue.PushManyAsync(order.Select(n => new KeyedRecordJob(n)));
        var total = order.Count;

        var proxies = new List<TcpProxy>();
        var workers = new List<WorkerProcess>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                var proxy = TcpProxy.Start("127.0.0.1", new NpgsqlConnectionStringBuilder(direct).Port);
                proxies.Add(proxy);
                var through = new NpgsqlConnectionStringBuilder(direct) { Port = proxy.Port, Timeout = 5 }.ConnectionString;
                workers.Add(await WorkerProcess.StartAsync(through, setup.Queue.QueueName, table, concurrency: 6, leaseSeconds: 2, workMs: 60,
                    prefetch: prefetch, globalConcurrency: global, keyed: true, recordConnectionString: direct));
            }

            var ended = $"SELECT count(*) FROM jobs_test.{table}_keyed WHERE ok";
            for (var k = 0; k < events; k++)
            {
                var victim = proxies[rng.Next(proxies.Count)];
                var cut = rng.Next(4) == 0;
                var during = 150 + rng.Next(450); // runs the other workers complete while this one is cut off
                var before = await db.ScalarAsync(ended);
                if (before >= total - during)
                {
                    break;
                }

                if (cut)
                {
                    victim.CutAll();
                    output.WriteLine($"event {k}: cut a worker's connections");
                    continue;
                }

                victim.Stall();
                try
                {
                    await TestExtensions.EventuallyAsync(async () => await db.ScalarAsync(ended) >= before + during, seconds: 120,
                        what: $"{during} runs completed by the others during a partition");
                }
                finally
                {
                    victim.Resume();
                }

                output.WriteLine($"event {k}: partitioned a worker for {during} runs of the others");
            }

            await TestExtensions.EventuallyAsync(
                async () => await db.ScalarAsync($"SELECT count(*) FROM jobs_test.jobs WHERE queue_name = '{setup.Queue.QueueName}' AND state IN (0, 1, 2)") == 0,
                seconds: 180, what: "no unfinished jobs");
            foreach (var w in workers)
            {
                Assert.Equal(0, await w.StopAsync());
            }

            var notCompleted = await db.ScalarAsync($"SELECT count(*) FROM jobs_test.jobs WHERE queue_name = '{setup.Queue.QueueName}' AND state <> 3");
            var unended = await db.ScalarAsync($"SELECT count(*) FROM jobs_test.{table}_keyed WHERE ended_at IS NULL");
            // Two runs of one job at once: the later one started before the earlier one ended.
            var overlapping = await db.ScalarAsync($"""
                SELECT count(*) FROM jobs_test.{table}_keyed a JOIN jobs_test.{table}_keyed b
                    ON a.job_id = b.job_id AND a.lease <> b.lease AND a.started_at <= b.started_at AND b.started_at < a.ended_at
                """);
            var again = await db.ScalarAsync($"SELECT count(*) - count(DISTINCT job_id) FROM jobs_test.{table}_keyed");
            var perKeyMax = await db.ScalarAsync($"""
                SELECT coalesce(max(open), 0) FROM (
                    SELECT sum(d) OVER (PARTITION BY k ORDER BY t, d ROWS UNBOUNDED PRECEDING) AS open
                    FROM (SELECT n / 1000 AS k, started_at AS t, 1 AS d FROM jobs_test.{table}_keyed
                          UNION ALL SELECT n / 1000, ended_at, -1 FROM jobs_test.{table}_keyed) e) x
                """);
            var overall = await db.ScalarAsync($"""
                SELECT max(open) FROM (SELECT sum(d) OVER (ORDER BY t, d ROWS UNBOUNDED PRECEDING) AS open
                    FROM (SELECT started_at AS t, 1 AS d FROM jobs_test.{table}_keyed UNION ALL SELECT ended_at, -1 FROM jobs_test.{table}_keyed) e) x
                """);
            var oks = await db.ScalarAsync($"SELECT count(DISTINCT job_id) FROM jobs_test.{table}_keyed WHERE ok");
            output.WriteLine($"runs again after a partition: {again}, overlapping runs of one job: {overlapping}, per key max {perKeyMax}, overall max {overall}, jobs with a successful run {oks} of {total}, not completed {notCompleted}, runs without an end {unended}");
            Assert.Equal(0L, unended);
            Assert.Equal(0L, notCompleted);
            Assert.Equal((long)total, oks);
            Assert.Equal(0L, overlapping);
            Assert.Equal(1L, perKeyMax);
            Assert.InRange(overall, 1, global);
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
}
