using Npgsql;
using Xunit.Abstractions;
using static Jobs.Sdk.Postgres.Tests.ProcessTests;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>Issue 16 across worker processes: a cluster-wide rate limit, and queue pause/resume.</summary>
[Collection(PostgresCollection.Name)]
public sealed class QueueFlowProcessTests(PostgresFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public async Task A_rate_limit_of_50_per_second_holds_within_10_percent_over_10_seconds_across_three_worker_processes()
    {
        await using var setup = await TestQueue.CreateAsync(fixture, _ => { });
        var table = await CreateRunsTableAsync(setup.DataSource);
        await CreateSpansTableAsync(setup.DataSource, table);

        var workers = new List<WorkerProcess>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                // 4 slots each (12 in all) for instant jobs: demand far above 50/s, so the bucket alone sets the pace.
                workers.Add(await WorkerProcess.StartAsync(fixture.ConnectionString, setup.Queue.QueueName, table, concurrency: 4, leaseSeconds: 30, workMs: 0,
                    ratePerSecond: 50));
            }

            // More jobs than 16 s of the rate: the queue never runs dry while the window is counted.
            await setup.Queue.PushManyAsync(Enumerable.Range(0, 800).Select(i => new RecordJob(i)));
            await TestExtensions.EventuallyAsync(
                async () => await setup.DataSource.ScalarAsync(
                    $"SELECT coalesce(extract(epoch FROM max(started_at) - min(started_at)) * 1000, 0)::bigint FROM jobs_test.{table}_spans") >= 11_200,
                seconds: 90, what: "starts spread over more than 11 s");
            foreach (var w in workers)
            {
                Assert.Equal(0, await w.StopAsync());
            }

            // Job starts recorded by the handlers on the database clock. The bucket starts full, so the first instant sees
            // a burst of 10 (RateLimit.PerSecond(50)'s default burst: a fifth of a second's tokens) before the queue settles
            // at the rate; the window [first start + 1 s, first start + 11 s) leaves the burst out and, with the queue
            // never empty, should hold 10 s × 50/s = 500 starts.
            var inWindow = await setup.DataSource.ScalarAsync($"""
                SELECT count(*) FROM jobs_test.{table}_spans, (SELECT min(started_at) AS t0 FROM jobs_test.{table}_spans) f
                WHERE started_at >= t0 + interval '1 second' AND started_at < t0 + interval '11 seconds'
                """);
            var firstSecond = await setup.DataSource.ScalarAsync($"""
                SELECT count(*) FROM jobs_test.{table}_spans, (SELECT min(started_at) AS t0 FROM jobs_test.{table}_spans) f
                WHERE started_at < t0 + interval '1 second'
                """);
            var processes = await setup.DataSource.ScalarAsync($"SELECT count(DISTINCT worker) FROM jobs_test.{table}");
            output.WriteLine($"starts in the 10 s window: {inWindow}; in the first second: {firstSecond}; processes that ran jobs: {processes}");
            Assert.InRange(inWindow, 450, 550);
            // The burst and a second of tokens, plus the tokens earned between the first claim and the first handler
            // recording its start (connection and JIT warm-up in a fresh process): far below what 12 slots run unlimited.
            Assert.InRange(firstSecond, 1, 90);
            Assert.True(processes >= 2, "the work was shared by the processes");
            Assert.Equal(1L, await setup.DataSource.ScalarAsync($"SELECT max(runs) FROM jobs_test.{table}"));
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
    public async Task Pausing_a_queue_stops_job_starts_on_every_process_within_a_second_running_jobs_finish_and_resume_restarts_them()
    {
        await using var setup = await TestQueue.CreateAsync(fixture, _ => { });
        var paused = setup.Queue.QueueName;
        var other = paused + "_other";
        var table = await CreateRunsTableAsync(setup.DataSource);
        await CreateSpansTableAsync(setup.DataSource, table);
        var spans = $"jobs_test.{table}_spans";
        var queue = $"queue = '{paused}'";

        var workers = new List<WorkerProcess>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                // Both queues in every process; 2 running and up to 4 claimed not started (prefetched) per queue and process.
                workers.Add(await WorkerProcess.StartAsync(fixture.ConnectionString, paused, table, concurrency: 2, leaseSeconds: 30, workMs: 800, prefetch: 4,
                    secondQueue: other));
            }

            await setup.Queue.PushManyAsync(Enumerable.Range(0, 150).Select(i => new RecordJob(i)));
            await setup.Queue.PushManyAsync(Enumerable.Range(0, 150).Select(i => new RecordJob(i)), new JobOptions { Queue = other });
            await TestExtensions.EventuallyAsync(async () => await setup.DataSource.ScalarAsync($"SELECT count(*) FROM {spans} WHERE {queue}") >= 6,
                seconds: 60, what: "jobs of the queue running before the pause");

            Assert.True(await setup.Queue.PauseQueueAsync(paused, reason: "test"));
            // The pause's time on the database clock (its transaction's start: no later than its commit).
            var pausedAt = $"(SELECT paused_at FROM jobs_test.queues WHERE name = '{paused}')";

            // The other queue keeps starting jobs well past the second the pause may take to reach every process...
            await TestExtensions.EventuallyAsync(
                async () => await setup.DataSource.ScalarAsync($"SELECT count(*) FROM {spans} WHERE queue = '{other}' AND started_at > {pausedAt} + interval '2 seconds'") >= 6,
                seconds: 60, what: "the other queue starts jobs 2 s after the pause");
            // ...and the paused queue's running jobs finish.
            await TestExtensions.EventuallyAsync(async () => await setup.DataSource.ScalarAsync($"SELECT count(*) FROM {spans} WHERE {queue} AND ended_at IS NULL") == 0,
                seconds: 30, what: "the paused queue's running jobs finish");

            var late = await setup.DataSource.ScalarAsync($"SELECT count(*) FROM {spans} WHERE {queue} AND started_at > {pausedAt} + interval '1 second'");
            var lastStart = await setup.DataSource.ScalarAsync(
                $"SELECT coalesce(extract(epoch FROM max(started_at) - {pausedAt}) * 1000, 0)::bigint FROM {spans} WHERE {queue}");
            output.WriteLine($"paused queue: starts later than 1 s after the pause: {late}; last start {lastStart} ms after the pause");
            Assert.Equal(0, late);

            var before = await setup.DataSource.ScalarAsync($"SELECT count(*) FROM {spans} WHERE {queue}");
            Assert.True(await setup.Queue.ResumeQueueAsync(paused));
            await TestExtensions.EventuallyAsync(async () => await setup.DataSource.ScalarAsync($"SELECT count(*) FROM {spans} WHERE {queue}") >= before + 6,
                seconds: 30, what: "the resumed queue starts jobs again");
            foreach (var w in workers)
            {
                Assert.Equal(0, await w.StopAsync());
            }

            Assert.Equal(1L, await setup.DataSource.ScalarAsync($"SELECT max(runs) FROM jobs_test.{table}"));
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
