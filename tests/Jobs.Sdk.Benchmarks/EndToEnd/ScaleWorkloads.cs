using System.Diagnostics;
using System.Globalization;
using Jobs.Sdk.Drivers;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Jobs.Sdk.Benchmarks.EndToEnd;

/// <summary>Workloads of issue 15: what an idle worker costs the server, and many concurrent single pushers.</summary>
internal static partial class EndToEndBenchmark
{
    /// <summary>
    /// <c>idle</c>: the server's CPU over <c>--seconds</c> with nothing running, then over the same time with one idle
    /// worker (it polls every <c>PollInterval</c> and listens); the difference is what the idle worker costs PostgreSQL.
    /// Also times <c>GetCountsAsync</c> (the state gauge and the health check call it), median of 5.
    /// Meant for a queue seeded with <c>--delayed</c> and <c>--retained-history</c>.
    /// </summary>
    private static async Task<Result> IdleAsync(BenchOptions o, NpgsqlDataSource ds, string schema)
    {
        var window = TimeSpan.FromSeconds(o.Seconds);
        var meter = await CpuMeter.CreateAsync(ds).ConfigureAwait(false);
        var quiet0 = await meter.SampleAsync().ConfigureAwait(false);
        await Task.Delay(window).ConfigureAwait(false);
        var quiet1 = await meter.SampleAsync().ConfigureAwait(false);

        var recorder = new Recorder(0);
        await using var workers = Workers(ds, o, schema, Queue, recorder);
        var worker = workers.HostedWorkerOf();
        await worker.StartAsync(CancellationToken.None).ConfigureAwait(false);
        await Task.Delay(TimeSpan.FromSeconds(2)).ConfigureAwait(false); // start-up, the first claim, LISTEN
        var idle0 = await meter.SampleAsync().ConfigureAwait(false);
        await Task.Delay(window).ConfigureAwait(false);
        var idle1 = await meter.SampleAsync().ConfigureAwait(false);

        var driver = workers.GetRequiredService<IJobDriver>();
        var counts = new double[5];
        for (var i = 0; i < counts.Length; i++)
        {
            var start = Stopwatch.GetTimestamp();
            await driver.GetCountsAsync(CancellationToken.None).ConfigureAwait(false);
            counts[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }

        await worker.StopAsync(CancellationToken.None).ConfigureAwait(false);
        Array.Sort(counts);
        var quietPct = Pct(quiet0.ServerSeconds, quiet1.ServerSeconds, window);
        var idlePct = Pct(idle0.ServerSeconds, idle1.ServerSeconds, window);
        var execPct = idle1.ExecMs - idle0.ExecMs is { } ms ? ms / 1e3 / window.TotalSeconds * 100 : (double?)null;
        var extra = string.Create(CultureInfo.InvariantCulture,
            $",\"server_cpu_pct_quiet\":{Num(quietPct)},\"server_cpu_pct_idle_worker\":{Num(idlePct)},\"idle_worker_server_cpu_pct\":{Num(idlePct - quietPct)}" +
            $",\"idle_worker_server_exec_pct\":{Num(execPct)},\"counts_ms\":{Num(counts[2])},\"poll_interval_ms\":{(int)PollInterval(o).TotalMilliseconds}" +
            $",\"delayed\":{o.Delayed},\"history\":{o.RetainedHistory}");
        return new Result(Line(o.Workload, 0, window, null, null, null, extra), recorder.Count == 0 ? null : $"{recorder.Count} jobs ran in an idle queue");

        static double? Pct(double? a, double? b, TimeSpan w) => b - a is { } s ? s / w.TotalSeconds * 100 : null;
    }

    /// <summary>
    /// <c>enqueue_concurrent</c>: <c>--pushers P</c> tasks push N jobs between them, one <c>PushAsync</c> (one commit)
    /// each, while a worker drains them (unless <c>--no-worker</c>). Figures: pushes (commits) per second, and the wake-up
    /// latency of the worker: handler start − the moment the push returned (committed), p50/p99 over all jobs. With
    /// <c>--push-rate R</c> the pushers share an open-loop schedule of R pushes/s in all (wake-up under a given offered load).
    /// <c>--pusher-warmup R</c>: R rounds of P concurrent pushers × 10 jobs, drained, before the measured pushes.
    /// </summary>
    private static async Task<Result> EnqueueConcurrentAsync(BenchOptions o, NpgsqlDataSource ds, string schema)
    {
        await using var producer = Producer(ds, o, schema);
        var queue = producer.GetRequiredService<JobQueue>();
        for (var i = 0; i < o.WarmUp; i++)
        {
            await queue.PushAsync(new BenchJob(-1, 0)).ConfigureAwait(false);
        }

        var recorder = new Recorder(o.Jobs, recordStarts: true);
        await using var workers = Workers(ds, o, schema, Queue, recorder);
        var worker = workers.HostedWorkerOf();
        if (!o.NoWorker)
        {
            await worker.StartAsync(CancellationToken.None).ConfigureAwait(false);
            await WaitUntilEmptyAsync(ds, schema).ConfigureAwait(false); // the warm-up jobs ran: the worker is idle
        }
        else
        {
            await ClearAsync(ds, schema).ConfigureAwait(false);
        }

        for (var round = 0; round < o.PusherWarmUp && !o.NoWorker; round++)
        {
            // The pool's connections for P pushers (and their first statements) come up before the window, not in it.
            await Task.WhenAll(Enumerable.Range(0, o.Pushers).Select(_ => Task.Run(async () =>
            {
                for (var k = 0; k < 10; k++)
                {
                    await queue.PushAsync(new BenchJob(-1, 0)).ConfigureAwait(false);
                }
            }))).ConfigureAwait(false);
            await WaitUntilEmptyAsync(ds, schema).ConfigureAwait(false);
        }

        var pushed = new long[o.Jobs];
        var next = -1;
        var meter = await CpuMeter.CreateAsync(ds).ConfigureAwait(false);
        var cpu0 = await meter.SampleAsync().ConfigureAwait(false);
        var sw = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, o.Pushers).Select(_ => Task.Run(async () =>
        {
            int seq;
            while ((seq = Interlocked.Increment(ref next)) < o.Jobs)
            {
                if (o.PushRate > 0)
                {
                    // Open loop: push seq is due seq / rate seconds after the start (late pushes go at once).
                    var due = TimeSpan.FromSeconds((double)seq / o.PushRate) - sw.Elapsed;
                    if (due >= TimeSpan.FromMilliseconds(1))
                    {
                        await Task.Delay(due).ConfigureAwait(false);
                    }
                }

                await queue.PushAsync(new BenchJob(seq, 0)).ConfigureAwait(false);
                pushed[seq] = Stopwatch.GetTimestamp();
            }
        }))).ConfigureAwait(false);
        sw.Stop();
        var cpu1 = await meter.SampleAsync().ConfigureAwait(false);

        string? error;
        double? p50 = null, p99 = null;
        if (!o.NoWorker)
        {
            await recorder.ReachAsync(o.Jobs, Timeout).ConfigureAwait(false);
            await WaitUntilEmptyAsync(ds, schema).ConfigureAwait(false);
            await Task.Delay(200).ConfigureAwait(false);
            await worker.StopAsync(CancellationToken.None).ConfigureAwait(false);
            if (o.Explain)
            {
                Log(((CountingDriver)workers.GetRequiredService<IJobDriver>()).Summary(o.Jobs));
            }

            var wake = new double[o.Jobs];
            for (var i = 0; i < wake.Length; i++)
            {
                wake[i] = Math.Max(0, Stopwatch.GetElapsedTime(pushed[i], recorder.StartTicks![i]).TotalMilliseconds);
            }

            Array.Sort(wake);
            p50 = Recorder.Percentile(wake, 50);
            p99 = Recorder.Percentile(wake, 99);
            error = recorder.Verify();
        }
        else
        {
            var stored = await LiveJobsAsync(ds, schema).ConfigureAwait(false);
            error = stored == o.Jobs ? null : $"{stored} jobs stored, expected {o.Jobs}";
        }

        var extra = string.Create(CultureInfo.InvariantCulture, $",\"pushers\":{o.Pushers},\"push_rate\":{o.PushRate},\"with_worker\":{(o.NoWorker ? "false" : "true")}")
            + CpuMeter.Json(cpu0, cpu1, o.Jobs);
        return new Result(Line(o.Workload, o.Jobs, sw.Elapsed, o.Jobs / sw.Elapsed.TotalSeconds, p50, p99, extra), error);
    }

    /// <summary>
    /// <c>cleanup</c>: <c>JobQueue.CleanupAsync</c> removing the <c>--retained-history</c> rows (completed and failed).
    /// Figures: seconds, the transactions the server committed meanwhile, the WAL written in all and per transaction,
    /// and the longest cleanup statement (pg_stat_statements <c>max_exec_time</c>; null without the extension).
    /// </summary>
    private static async Task<Result> CleanupAsync(BenchOptions o, NpgsqlDataSource ds, string schema)
    {
        if (o.RetainedHistory <= 0)
        {
            return new Result("{\"failed\":true}", "cleanup needs --retained-history R (the rows to clean up)");
        }

        await using var producer = Producer(ds, o, schema);
        var queue = producer.GetRequiredService<JobQueue>();
        await ResetStatementsAsync(ds).ConfigureAwait(false);
        var before = await ServerStatsAsync(ds).ConfigureAwait(false);
        var sw = Stopwatch.StartNew();
        await queue.CleanupAsync(new CleanupOptions { CompletedJobs = CleanupAction.Remove, FailedJobs = CleanupAction.Remove }).ConfigureAwait(false);
        sw.Stop();
        await Task.Delay(1100).ConfigureAwait(false); // backends flush their statistics at most once a second
        var after = await ServerStatsAsync(ds).ConfigureAwait(false);
        var maxMs = await MaxCleanupStatementMsAsync(ds).ConfigureAwait(false);
        var left = await ScalarAsync(ds, $"SELECT count(*) FROM {schema}.jobs WHERE state IN (3, 4)").ConfigureAwait(false);
        var commits = after.Commits - before.Commits - 1; // the statistics read commits too
        var wal = after.WalBytes - before.WalBytes;
        var extra = string.Create(CultureInfo.InvariantCulture,
            $",\"rows\":{o.RetainedHistory},\"transactions\":{commits},\"wal_mb\":{Num(wal / 1048576.0)},\"wal_mb_per_transaction\":{Num(wal / 1048576.0 / Math.Max(1, commits))}" +
            $",\"max_statement_ms\":{Num(maxMs)}");
        return new Result(Line(o.Workload, 0, sw.Elapsed, null, null, null, extra), left == 0 ? null : $"{left} finished rows left after cleanup");
    }

    private static async Task ResetStatementsAsync(NpgsqlDataSource ds)
    {
        try
        {
            await ExecAsync(ds, "SELECT pg_stat_statements_reset()").ConfigureAwait(false);
        }
        catch (PostgresException)
        {
        }
    }

    private static async Task<double?> MaxCleanupStatementMsAsync(NpgsqlDataSource ds)
    {
        try
        {
            await using var cmd = ds.CreateCommand("SELECT max(max_exec_time) FROM pg_stat_statements WHERE query ILIKE 'DELETE FROM%jobs%'");
            return await cmd.ExecuteScalarAsync().ConfigureAwait(false) is double ms ? ms : null;
        }
        catch (PostgresException)
        {
            return null;
        }
    }

    private static async Task<long> ScalarAsync(NpgsqlDataSource ds, string sql)
    {
        await using var cmd = ds.CreateCommand(sql);
        return Convert.ToInt64(await cmd.ExecuteScalarAsync().ConfigureAwait(false), CultureInfo.InvariantCulture);
    }

    private static string Num(double? v) => v is { } x && double.IsFinite(x) ? Math.Round(x, 2).ToString(CultureInfo.InvariantCulture) : "null";
}
