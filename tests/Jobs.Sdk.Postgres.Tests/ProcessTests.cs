using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Npgsql;
using Xunit.Abstractions;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>Several worker processes, kill -9, and server restarts.</summary>
[Collection(PostgresCollection.Name)]
public sealed class ProcessTests(PostgresFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public async Task Three_worker_processes_drain_5000_jobs_each_exactly_once()
    {
        var log = fixture.ServerLogPosition();
        await using var setup = await TestQueue.CreateAsync(fixture, _ => { });
        var table = await CreateRunsTableAsync(setup.DataSource);
        await setup.Queue.PushManyAsync(Enumerable.Range(0, 5000).Select(i => new RecordJob(i)));

        var workers = new List<WorkerProcess>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                workers.Add(await WorkerProcess.StartAsync(fixture.ConnectionString, setup.Queue.QueueName, table, concurrency: 8, leaseSeconds: 30, workMs: 0));
            }

            await TestExtensions.EventuallyAsync(async () => await setup.DataSource.ScalarAsync($"SELECT count(*) FROM jobs_test.{table}") == 5000,
                seconds: 120, what: "5000 runs recorded");
            await TestExtensions.EventuallyAsync(async () => Live(await setup.Queue.GetCountsAsync()) == 0, what: "queue drained");
            foreach (var w in workers)
            {
                Assert.Equal(0, await w.StopAsync());
            }

            Assert.Equal(1L, await setup.DataSource.ScalarAsync($"SELECT max(runs) FROM jobs_test.{table}"));
            Assert.Equal(5000L, await setup.DataSource.ScalarAsync($"SELECT sum(runs) FROM jobs_test.{table}"));
            var perWorker = await setup.DataSource.ScalarAsync($"SELECT count(DISTINCT worker) FROM jobs_test.{table}");
            output.WriteLine($"workers that ran jobs: {perWorker}");
            Assert.Equal(0, (await setup.Queue.GetCountsAsync()).Failed);
            fixture.AssertNoDeadlocksSince(log);
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
    public async Task Global_concurrency_of_5_holds_across_three_worker_processes()
    {
        await using var setup = await TestQueue.CreateAsync(fixture, _ => { });
        var table = await CreateRunsTableAsync(setup.DataSource);
        await CreateSpansTableAsync(setup.DataSource, table);

        var workers = new List<WorkerProcess>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                // 8 slots each (24 in all), but at most 5 running in the cluster.
                workers.Add(await WorkerProcess.StartAsync(fixture.ConnectionString, setup.Queue.QueueName, table, concurrency: 8, leaseSeconds: 30, workMs: 40,
                    globalConcurrency: 5));
            }

            // Pushed once every process runs, so that all three compete for the five slots.
            await setup.Queue.PushManyAsync(Enumerable.Range(0, 90).Select(i => new RecordJob(i)));

            await TestExtensions.EventuallyAsync(async () => await setup.DataSource.ScalarAsync($"SELECT count(*) FROM jobs_test.{table}") == 90,
                seconds: 120, what: "90 runs recorded");
            foreach (var w in workers)
            {
                Assert.Equal(0, await w.StopAsync());
            }

            // The most spans open at one instant (database clock; an end sorts before a start at the same instant).
            var overlap = await setup.DataSource.ScalarAsync($"""
                SELECT max(open) FROM (
                    SELECT sum(d) OVER (ORDER BY t, d ROWS UNBOUNDED PRECEDING) AS open
                    FROM (SELECT started_at AS t, 1 AS d FROM jobs_test.{table}_spans
                          UNION ALL SELECT ended_at, -1 FROM jobs_test.{table}_spans) e) x
                """);
            output.WriteLine($"most jobs running at once: {overlap}");
            Assert.InRange(overlap, 2, 5);
            Assert.Equal(90L, await setup.DataSource.ScalarAsync($"SELECT sum(runs) FROM jobs_test.{table}"));
            Assert.True(await setup.DataSource.ScalarAsync($"SELECT count(DISTINCT worker) FROM jobs_test.{table}") >= 2, "the work was shared by the processes");
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
    public async Task Killed_worker_jobs_are_rescued_by_lease_expiry_and_none_is_lost()
    {
        var log = fixture.ServerLogPosition();
        await using var setup = await TestQueue.CreateAsync(fixture, _ => { });
        var table = await CreateRunsTableAsync(setup.DataSource);
        const int total = 1500;
        await setup.Queue.PushManyAsync(Enumerable.Range(0, total).Select(i => new RecordJob(i)));

        var workers = new List<WorkerProcess>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                workers.Add(await WorkerProcess.StartAsync(fixture.ConnectionString, setup.Queue.QueueName, table, concurrency: 8, leaseSeconds: 2, workMs: 20));
            }

            await TestExtensions.EventuallyAsync(async () => await setup.DataSource.ScalarAsync($"SELECT count(*) FROM jobs_test.{table}") >= 200,
                seconds: 60, what: "first runs");
            workers[0].Kill();
            output.WriteLine("killed worker 0");

            await TestExtensions.EventuallyAsync(async () => await setup.DataSource.ScalarAsync($"SELECT count(*) FROM jobs_test.{table}") == total,
                seconds: 120, what: "every job ran");
            await TestExtensions.EventuallyAsync(async () => Live(await setup.Queue.GetCountsAsync()) == 0, seconds: 60, what: "queue drained");
            var counts = await setup.Queue.GetCountsAsync();
            Assert.Equal(0, counts.Failed);
            var extra = await setup.DataSource.ScalarAsync($"SELECT sum(runs) - count(*) FROM jobs_test.{table}");
            output.WriteLine($"jobs run again after the kill: {extra}");
            // Only jobs the killed worker had in flight (or whose outcome it had not yet written) may run twice.
            Assert.InRange(extra, 0, 64);
            foreach (var w in workers.Skip(1))
            {
                Assert.Equal(0, await w.StopAsync());
            }

            fixture.AssertNoDeadlocksSince(log);
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
    public async Task Server_restart_during_a_drain_workers_recover_and_every_job_completes()
    {
        LocalPostgresCluster? own = null;
        var cluster = fixture.Cluster;
        if (cluster is null)
        {
            own = await LocalPostgresCluster.StartAsync();
            cluster = own;
        }

        var log = cluster.LogLength();
        try
        {
            var runs = new ConcurrentDictionary<int, int>();
            var done = new Recorder<int>();
            var dataSource = PostgresJobsBuilderExtensions.CreateDataSource(cluster.ConnectionString);
            await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>(async (job, _, ct) =>
            {
                await Task.Delay(2, ct);
                if (runs.AddOrUpdate(job.Value, 1, (_, n) => n + 1) == 1)
                {
                    done.Add(job.Value);
                }
            }), driver: o => o.PollInterval = TimeSpan.FromSeconds(30),
                worker: o =>
                {
                    o.Concurrency = 8;
                    o.LeaseDuration = TimeSpan.FromSeconds(3);
                    o.RescueInterval = TimeSpan.FromSeconds(1);
                }, dataSource: dataSource);
            const int total = 3000;
            await q.Queue.PushManyAsync(Enumerable.Range(0, total).Select(i => new ValueJob(i)));
            await q.StartAsync();
            await done.WaitForCountAsync(300, seconds: 60);
            await cluster.RestartAsync();
            output.WriteLine($"restarted with {done.Count} done");

            await done.WaitForCountAsync(total, seconds: 120);
            await TestExtensions.EventuallyAsync(async () =>
            {
                try
                {
                    return Live(await q.Queue.GetCountsAsync()) == 0;
                }
                catch (NpgsqlException)
                {
                    return false;
                }
            }, seconds: 60, what: "queue drained");

            // The listener reconnected: a new job wakes the idle worker long before the 30 s poll.
            var after = await q.Queue.PushAsync(new ValueJob(total));
            await done.WaitForCountAsync(total + 1, seconds: 20);
            Assert.NotEqual(default, after);
            Assert.Equal(Enumerable.Range(0, total + 1), runs.Keys.Order());
            output.WriteLine($"jobs run twice: {runs.Values.Count(v => v > 1)}");
            LocalPostgresCluster.AssertNoDeadlocks(cluster.ReadLogSince(log));
        }
        finally
        {
            if (own is not null)
            {
                await own.DisposeAsync();
            }
        }
    }

    internal static long Live(JobCounts c) => c.Pending + c.Processing + c.Retrying;

    /// <summary>The test worker's <c>{table}_spans</c>: each run's queue, start and end on the database clock.</summary>
    internal static Task CreateSpansTableAsync(NpgsqlDataSource dataSource, string table)
        => dataSource.ExecAsync($"CREATE TABLE jobs_test.{table}_spans (job_id uuid PRIMARY KEY, queue text NOT NULL, run uuid NOT NULL UNIQUE, started_at timestamptz NOT NULL, ended_at timestamptz)");

    internal static async Task<string> CreateRunsTableAsync(NpgsqlDataSource dataSource)
    {
        var table = "runs_" + Guid.NewGuid().ToString("N")[..10];
        await dataSource.ExecAsync($"CREATE TABLE jobs_test.{table} (job_id uuid PRIMARY KEY, runs int NOT NULL, worker text NOT NULL, run uuid)");
        return table;
    }
}
