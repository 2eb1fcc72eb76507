using System.Diagnostics;
using System.Runtime;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Jobs.Sdk.Drivers;
using Jobs.Sdk.Postgres;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Jobs.Sdk.Benchmarks.EndToEnd;

/// <summary>
/// The end-to-end benchmark (issue 8): one workload against a fresh schema of a real PostgreSQL, one JSON line on
/// stdout, logs on stderr. See README.md for the method.
/// </summary>
internal static partial class EndToEndBenchmark
{
    private const string Queue = "bench";
    private const int LatencyJobs = 300;
    private const int LatencyWarmUpJobs = 50;
    private static readonly TimeSpan LatencySpacing = TimeSpan.FromMilliseconds(10);
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(10);

    public static async Task<int> RunAsync(string[] args)
    {
        BenchOptions o;
        try
        {
            o = BenchOptions.Parse(args);
            BenchJob.UseConcurrencyKeys(o.ConcurrencyKeys, o.ConcurrencyLimit ?? Math.Max(o.Jobs, 1));
        }
        catch (ArgumentException ex)
        {
            await Console.Error.WriteLineAsync($"error: {ex.Message}\nusage: --workload enqueue|enqueue_batch|drain|latency --jobs N --concurrency C " +
                "--connection \"<npgsql connection string>\" [--processes P] [--retained-history R] [--poll-only] [--poll-interval-ms MS] [--report-rss] [--explain] [--fast-worker-commits] [--prefetch K] [--concurrency-keys K [--concurrency-limit L]] [--warmup N] [--warmup-rounds R] [--pusher-warmup R]")
                .ConfigureAwait(false);
            return 2;
        }

        await using var dataSource = CreateDataSource(o.Connection, o.Concurrency * (o.Worker ? 1 : 2) + 10);
        if (o.Worker)
        {
            return await ChildWorkerAsync(o, dataSource).ConfigureAwait(false);
        }

        var schema = $"bench_{Environment.ProcessId}_{Random.Shared.Next(1 << 20):x5}";
        Log($".NET {Environment.Version}, schema {schema}, workload {o.Workload}, N={o.Jobs}, C={o.Concurrency}, P={o.Processes}" +
            (o.PollOnly ? ", poll-only" : "") + (o.RetainedHistory > 0 ? $", history {o.RetainedHistory}" : "") + (o.Delayed > 0 ? $", delayed {o.Delayed}" : "") + (o.FastWorkerCommits ? ", FastWorkerCommits" : "") + (o.Prefetch > 0 ? $", Prefetch {o.Prefetch}" : ""));
        Result result;
        try
        {
            await using (var producer = Producer(dataSource, o, schema))
            {
                await producer.GetRequiredService<IJobDriver>().WaitUntilReadyAsync(CancellationToken.None).ConfigureAwait(false);
            }

            await Seeding.FillAsync(dataSource, schema, Queue, o.RetainedHistory, o.Delayed).ConfigureAwait(false);
            result = o.Workload switch
            {
                "enqueue" => await EnqueueAsync(o, dataSource, schema).ConfigureAwait(false),
                "enqueue_batch" => await EnqueueBatchAsync(o, dataSource, schema).ConfigureAwait(false),
                "drain" when o.Processes > 1 => await DrainMultiProcessAsync(o, dataSource, schema).ConfigureAwait(false),
                "drain" => await DrainAsync(o, dataSource, schema).ConfigureAwait(false),
                "idle" => await IdleAsync(o, dataSource, schema).ConfigureAwait(false),
                "enqueue_concurrent" => await EnqueueConcurrentAsync(o, dataSource, schema).ConfigureAwait(false),
                "cleanup" => await CleanupAsync(o, dataSource, schema).ConfigureAwait(false),
                _ => await LatencyAsync(o, dataSource, schema).ConfigureAwait(false),
            };
        }
        finally
        {
            try
            {
                await ExecAsync(dataSource, $"DROP SCHEMA IF EXISTS {schema} CASCADE").ConfigureAwait(false);
            }
            catch (NpgsqlException ex)
            {
                Log($"could not drop schema {schema}: {ex.Message}");
            }
        }

        await Console.Out.WriteLineAsync(result.Json).ConfigureAwait(false);
        await Console.Out.FlushAsync().ConfigureAwait(false);
        if (result.Error is not null)
        {
            Log($"VERIFICATION FAILED: {result.Error}");
            return 1;
        }

        return 0;
    }

    // ---------------------------------------------------------------- workloads

    private static async Task<Result> EnqueueAsync(BenchOptions o, NpgsqlDataSource ds, string schema)
    {
        await using var producer = Producer(ds, o, schema);
        var queue = producer.GetRequiredService<JobQueue>();
        for (var i = 0; i < o.WarmUp; i++)
        {
            await queue.PushAsync(new BenchJob(-1, 0)).ConfigureAwait(false);
        }

        await ClearAsync(ds, schema).ConfigureAwait(false);
        var sw = Stopwatch.StartNew();
        for (var i = 0; i < o.Jobs; i++)
        {
            await queue.PushAsync(new BenchJob(i, 0)).ConfigureAwait(false);
        }

        sw.Stop();
        var stored = await LiveJobsAsync(ds, schema).ConfigureAwait(false);
        return Throughput(o, sw.Elapsed, stored == o.Jobs ? null : $"{stored} jobs stored, expected {o.Jobs}");
    }

    private static async Task<Result> EnqueueBatchAsync(BenchOptions o, NpgsqlDataSource ds, string schema)
    {
        await using var producer = Producer(ds, o, schema);
        var queue = producer.GetRequiredService<JobQueue>();
        await PushBatchesAsync(queue, Math.Min(2 * o.BatchSize, 2000), o.BatchSize, -1).ConfigureAwait(false);
        await ClearAsync(ds, schema).ConfigureAwait(false);
        var sw = Stopwatch.StartNew();
        await PushBatchesAsync(queue, o.Jobs, o.BatchSize).ConfigureAwait(false);
        sw.Stop();
        var stored = await LiveJobsAsync(ds, schema).ConfigureAwait(false);
        return Throughput(o, sw.Elapsed, stored == o.Jobs ? null : $"{stored} jobs stored, expected {o.Jobs}",
            $",\"batch_size\":{o.BatchSize}");
    }

    private static async Task<Result> DrainAsync(BenchOptions o, NpgsqlDataSource ds, string schema)
    {
        await WarmUpWorkersAsync(o, ds, schema, Queue).ConfigureAwait(false);
        await using (var producer = Producer(ds, o, schema))
        {
            await PushBatchesAsync(producer.GetRequiredService<JobQueue>(), o.Jobs, 5000).ConfigureAwait(false);
        }

        await ExecAsync(ds, $"VACUUM ANALYZE {schema}.jobs").ConfigureAwait(false);
        if (o.Explain)
        {
            await ExplainClaimAsync(ds, schema, o.Concurrency).ConfigureAwait(false);
        }

        var recorder = new Recorder(o.Jobs) { ReportRss = o.ReportRss };
        await using var workers = Workers(ds, o, schema, Queue, recorder);
        var worker = workers.HostedWorkerOf();
        await workers.GetRequiredService<IJobDriver>().WaitUntilReadyAsync(CancellationToken.None).ConfigureAwait(false);
        await WaitForJitQuietAsync().ConfigureAwait(false);
        var before = o.Explain ? await ServerStatsAsync(ds).ConfigureAwait(false) : default;
        var profile = o.Explain ? await DrainProfile.StartAsync(ds, schema).ConfigureAwait(false) : null;
        var meter = await CpuMeter.CreateAsync(ds).ConfigureAwait(false);
        var runtime0 = RuntimeCounters.Take();
        var cpu0 = await meter.SampleAsync().ConfigureAwait(false);
        var procs0 = o.Explain ? await ServerProcesses.TakeAsync(ds, meter.Postmaster).ConfigureAwait(false) : null;
        Mark("drain-start");

        var sw = Stopwatch.StartNew();
        await worker.StartAsync(CancellationToken.None).ConfigureAwait(false);
        await recorder.ReachAsync(o.Jobs, Timeout).ConfigureAwait(false);
        await WaitUntilEmptyAsync(ds, schema).ConfigureAwait(false);
        sw.Stop();
        var procs1 = o.Explain ? await ServerProcesses.TakeAsync(ds, meter.Postmaster).ConfigureAwait(false) : null;
        var cpu1 = await meter.SampleAsync().ConfigureAwait(false);
        var runtime1 = RuntimeCounters.Take();
        Mark("drain-end");

        await Task.Delay(200).ConfigureAwait(false); // a job run twice would show up now
        await worker.StopAsync(CancellationToken.None).ConfigureAwait(false);
        if (o.Explain)
        {
            await Task.Delay(1100).ConfigureAwait(false); // backends flush their statistics at most once a second
            var after = await ServerStatsAsync(ds).ConfigureAwait(false);
            Log(((CountingDriver)workers.GetRequiredService<IJobDriver>()).Summary(o.Jobs));
            Log($"server during the drain: {(after.Commits - before.Commits) / (double)o.Jobs:0.###} commits/job, " +
                $"{(after.WalBytes - before.WalBytes) / (double)o.Jobs:0} WAL bytes/job, {(after.Statements - before.Statements) / (double)o.Jobs:0.###} statements/job" +
                (after.Statements == 0 ? " (pg_stat_statements not installed)" : ""));
            Log(await profile!.ReportAsync(ds, schema, o.Jobs).ConfigureAwait(false));
            Log(RuntimeCounters.Describe(runtime0, runtime1, o.Jobs));
            Log(ServerProcesses.Report(procs0, procs1, o.Jobs));
        }

        var extra = CpuMeter.Json(cpu0, cpu1, o.Jobs) + (o.ReportRss
            ? $",\"rss_mb_10k\":{Json(recorder.RssMbAt10k)},\"rss_mb_100k\":{Json(recorder.RssMbAt100k)},\"rss_mb_1m\":{Json(recorder.RssMbAt1M)}"
            : "");
        return Throughput(o, sw.Elapsed, recorder.Verify(), extra);
    }

    private static async Task<Result> DrainMultiProcessAsync(BenchOptions o, NpgsqlDataSource ds, string schema)
    {
        await using (var producer = Producer(ds, o, schema))
        {
            await PushBatchesAsync(producer.GetRequiredService<JobQueue>(), o.Jobs, 5000).ConfigureAwait(false);
        }

        await ExecAsync(ds, $"VACUUM ANALYZE {schema}.jobs").ConfigureAwait(false);
        var dir = Directory.CreateTempSubdirectory("jobs-sdk-bench-");
        var children = new List<(Process Process, string Results, Task Ready)>();
        try
        {
            for (var p = 0; p < o.Processes; p++)
            {
                var results = Path.Combine(dir.FullName, $"w{p}.txt");
                var process = StartSelf([.. o.FastWorkerCommits ? ["--fast-worker-commits"] : Array.Empty<string>(),
                    "--prefetch", o.Prefetch.ToString(CultureInfo.InvariantCulture), "--worker", "--connection", o.Connection, "--schema", schema, "--concurrency",
                    o.Concurrency.ToString(CultureInfo.InvariantCulture), "--jobs", o.Jobs.ToString(CultureInfo.InvariantCulture), "--results", results,
                    .. o.PollIntervalMs is { } ms ? ["--poll-interval-ms", ms.ToString(CultureInfo.InvariantCulture)] : Array.Empty<string>(),
                    .. o.GlobalConcurrency is { } g ? ["--global-concurrency", g.ToString(CultureInfo.InvariantCulture)] : Array.Empty<string>()]);
                children.Add((process, results, WaitForLineAsync(process, "ready")));
            }

            await Task.WhenAll(children.Select(c => c.Ready)).WaitAsync(Timeout).ConfigureAwait(false);
            var meter = await CpuMeter.CreateAsync(ds).ConfigureAwait(false);
            var cpu0 = await meter.SampleAsync().ConfigureAwait(false);
            var sw = Stopwatch.StartNew();
            foreach (var c in children)
            {
                await c.Process.StandardInput.WriteLineAsync("go").ConfigureAwait(false);
                await c.Process.StandardInput.FlushAsync().ConfigureAwait(false);
            }

            await WaitUntilEmptyAsync(ds, schema).ConfigureAwait(false);
            sw.Stop();
            var cpu1 = await meter.SampleAsync().ConfigureAwait(false);
            await Task.Delay(200).ConfigureAwait(false);
            foreach (var c in children)
            {
                await c.Process.StandardInput.WriteLineAsync("stop").ConfigureAwait(false);
                c.Process.StandardInput.Close();
            }

            var recorder = new Recorder(o.Jobs);
            var failures = new List<string>();
            var childCpu = TimeSpan.Zero;
            foreach (var c in children)
            {
                await c.Process.WaitForExitAsync().WaitAsync(Timeout).ConfigureAwait(false);
                if (c.Process.ExitCode != 0)
                {
                    failures.Add($"worker {c.Process.Id} exited with {c.Process.ExitCode}");
                    continue;
                }

                foreach (var line in await File.ReadAllLinesAsync(c.Results).ConfigureAwait(false))
                {
                    recorder.RecordSeq(long.Parse(line, CultureInfo.InvariantCulture));
                }

                childCpu += TimeSpan.FromMilliseconds(double.Parse(await File.ReadAllTextAsync(c.Results + ".cpu").ConfigureAwait(false), CultureInfo.InvariantCulture));
            }

            if (recorder.Verify() is { } error)
            {
                failures.Add(error);
            }

            // Client CPU: the workers' processes from "go" to "stop" (this parent process only waits).
            var cpu = CpuMeter.Json(cpu0 with { Client = TimeSpan.Zero }, cpu1 with { Client = TimeSpan.Zero }, o.Jobs, childCpu);
            return Throughput(o, sw.Elapsed, failures.Count == 0 ? null : string.Join("; ", failures), $",\"processes\":{o.Processes}" + cpu);
        }
        finally
        {
            foreach (var c in children)
            {
                if (!c.Process.HasExited)
                {
                    c.Process.Kill();
                }

                c.Process.Dispose();
            }

            dir.Delete(recursive: true);
        }
    }

    private static async Task<int> ChildWorkerAsync(BenchOptions o, NpgsqlDataSource ds)
    {
        var schema = o.Schema!;
        // Warm up (JIT, pool) on a queue of its own so the measured queue is untouched.
        await WarmUpWorkersAsync(o, ds, schema, $"warmup-{Environment.ProcessId}").ConfigureAwait(false);
        var recorder = new Recorder(0, keepSequence: true);
        await using var workers = Workers(ds, o, schema, Queue, recorder);
        var worker = workers.HostedWorkerOf();
        await workers.GetRequiredService<IJobDriver>().WaitUntilReadyAsync(CancellationToken.None).ConfigureAwait(false);
        await Console.Out.WriteLineAsync("ready").ConfigureAwait(false);
        await Console.Out.FlushAsync().ConfigureAwait(false);
        string? line;
        while ((line = await Console.In.ReadLineAsync().ConfigureAwait(false)) is not null && line != "go")
        {
        }

        var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
        await worker.StartAsync(CancellationToken.None).ConfigureAwait(false);
        while ((line = await Console.In.ReadLineAsync().ConfigureAwait(false)) is not null && line != "stop")
        {
        }

        var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpu0;
        await worker.StopAsync(CancellationToken.None).ConfigureAwait(false);
        await File.WriteAllTextAsync(o.Results! + ".cpu", cpu.TotalMilliseconds.ToString(CultureInfo.InvariantCulture)).ConfigureAwait(false);
        await File.WriteAllLinesAsync(o.Results!, recorder.Sequence.Select(s => s.ToString(CultureInfo.InvariantCulture))).ConfigureAwait(false);
        return 0;
    }

    private static async Task<Result> LatencyAsync(BenchOptions o, NpgsqlDataSource ds, string schema)
    {
        var recorder = new Recorder(LatencyJobs);
        // Producer and workers are separate driver instances (as separate processes would be), so in poll-only mode
        // a push cannot wake the workers in-process: they find jobs by polling alone.
        await using var workers = Workers(ds, o, schema, Queue, recorder);
        await using var producer = Producer(ds, o, schema);
        var queue = producer.GetRequiredService<JobQueue>();
        var worker = workers.HostedWorkerOf();
        await worker.StartAsync(CancellationToken.None).ConfigureAwait(false);
        var warmUpJobs = await WarmUpLatencyAsync(queue, recorder, o.ColdLatency).ConfigureAwait(false);
        var compiled0 = JitInfo.GetCompiledMethodCount();

        var sw = Stopwatch.StartNew();
        for (var i = 0; i < LatencyJobs; i++)
        {
            var wait = (i * LatencySpacing) - sw.Elapsed;
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait).ConfigureAwait(false);
            }

            await queue.PushAsync(new BenchJob(i, Stopwatch.GetTimestamp())).ConfigureAwait(false);
        }

        await recorder.ReachAsync(warmUpJobs + LatencyJobs, Timeout).ConfigureAwait(false);
        sw.Stop();
        var compiledInWindow = JitInfo.GetCompiledMethodCount() - compiled0;
        await worker.StopAsync(CancellationToken.None).ConfigureAwait(false);
        var latencies = recorder.TakeLatencies();
        var error = recorder.Verify() ?? (latencies.Length == LatencyJobs ? null : $"{latencies.Length} latencies recorded, expected {LatencyJobs}");
        var extra = (o.PollOnly
            ? $",\"poll_only\":true,\"poll_interval_ms\":{(int)PollInterval(o).TotalMilliseconds}"
            : "") + $",\"warmup_jobs\":{warmUpJobs},\"jit_methods_in_window\":{compiledInWindow}";
        return new Result(Line(o.Workload, LatencyJobs, sw.Elapsed, null,
            Recorder.Percentile(latencies, 50), Recorder.Percentile(latencies, 99), extra), error);
    }

    // ---------------------------------------------------------------- building blocks

    private static NpgsqlDataSource CreateDataSource(string connectionString, int minPool)
    {
        var csb = new NpgsqlConnectionStringBuilder(connectionString);
        if (csb.MaxPoolSize < minPool)
        {
            csb.MaxPoolSize = minPool;
        }

        return PostgresJobsBuilderExtensions.CreateDataSource(csb.ConnectionString);
    }

    private static TimeSpan PollInterval(BenchOptions o) =>
        o.PollIntervalMs is { } ms ? TimeSpan.FromMilliseconds(ms) : new PostgresJobDriverOptions().PollInterval;

    private static ServiceProvider Build(NpgsqlDataSource ds, BenchOptions o, string schema, string queue, Recorder? recorder)
    {
        var services = new ServiceCollection();
        services.AddLogging(b => b
            .SetMinimumLevel(LogLevel.Warning)
            .AddConsole(c => c.LogToStandardErrorThreshold = LogLevel.Trace));
        services.AddJobs(jobs =>
        {
            var options = new PostgresJobDriverOptions
            {
                QueueName = queue,
                Schema = schema,
                PollInterval = PollInterval(o),
                UseListenNotify = !o.PollOnly,
                Retention = new RetentionPolicy(),
                FastWorkerCommits = o.FastWorkerCommits,
            };
            if (o.Explain && recorder is not null)
            {
                // Diagnostics: the same driver behind a counting decorator (migrations run through its readiness gate).
                jobs.UseDriver(_ => new CountingDriver(new PostgresJobDriver(ds, options)));
            }
            else
            {
                jobs.UsePostgres(ds, p =>
                {
                    p.QueueName = options.QueueName;
                    p.Schema = options.Schema;
                    p.PollInterval = options.PollInterval;
                    p.UseListenNotify = options.UseListenNotify;
                    p.Retention = options.Retention;
                    p.FastWorkerCommits = options.FastWorkerCommits;
                });
            }

            if (o.GlobalConcurrency is { } global)
            {
                jobs.AddQueue(options.QueueName, q => q.GlobalConcurrency = global);
            }

            if (recorder is not null)
            {
                jobs.AddJob<BenchJob>((job, _, _) =>
                    {
                        recorder.Record(job);
                        return Task.CompletedTask;
                    })
                    .AddWorkers(w =>
                    {
                        w.Concurrency = o.Concurrency;
                        w.Prefetch = o.Prefetch;
                    });
            }
        });
        return services.BuildServiceProvider();
    }

    private static ServiceProvider Producer(NpgsqlDataSource ds, BenchOptions o, string schema) => Build(ds, o, schema, Queue, null);

    private static ServiceProvider Workers(NpgsqlDataSource ds, BenchOptions o, string schema, string queue, Recorder recorder) =>
        Build(ds, o, schema, queue, recorder);

    private static async Task PushBatchesAsync(JobQueue queue, int count, int batchSize, long seq = 0)
    {
        for (var start = 0; start < count; start += batchSize)
        {
            var n = Math.Min(batchSize, count - start);
            var batch = new BenchJob[n];
            for (var i = 0; i < n; i++)
            {
                batch[i] = new BenchJob(seq < 0 ? -1 : start + i, 0);
            }

            await queue.PushManyAsync(batch).ConfigureAwait(false);
        }
    }

    private static async Task ClearAsync(NpgsqlDataSource ds, string schema)
    {
        await ExecAsync(ds, $"DELETE FROM {schema}.jobs WHERE state IN (0, 1, 2) AND priority = 2").ConfigureAwait(false);
        await ExecAsync(ds, $"VACUUM ANALYZE {schema}.jobs").ConfigureAwait(false);
    }

    /// <summary>
    /// Jobs still to run (pending, processing, retrying) at the measured jobs' priority (Normal): neither finished history
    /// nor the seeded delayed jobs (priority Higher) are counted, and the count reads only the measured rows.
    /// </summary>
    private static async Task<long> LiveJobsAsync(NpgsqlDataSource ds, string schema)
    {
        await using var cmd = ds.CreateCommand(
            $"SELECT (SELECT count(*) FROM {schema}.jobs WHERE queue_name = '{Queue}' AND state IN (0, 2) AND priority = 2) " +
            $"+ (SELECT count(*) FROM {schema}.jobs WHERE queue_name = '{Queue}' AND state = 1)");
        return (long)(await cmd.ExecuteScalarAsync().ConfigureAwait(false))!;
    }

    private static async Task WaitUntilEmptyAsync(NpgsqlDataSource ds, string schema)
    {
        var deadline = Stopwatch.StartNew();
        while (await LiveJobsAsync(ds, schema).ConfigureAwait(false) > 0)
        {
            if (deadline.Elapsed > Timeout)
            {
                throw new TimeoutException("The queue did not empty within the benchmark timeout.");
            }

            await Task.Delay(2).ConfigureAwait(false);
        }
    }

    private static async Task ExecAsync(NpgsqlDataSource ds, string sql)
    {
        await using var cmd = ds.CreateCommand(sql);
        cmd.CommandTimeout = 0;
        await cmd.ExecuteNonQueryAsync().ConfigureAwait(false);
    }

    /// <summary>EXPLAIN (ANALYZE, BUFFERS) of the claim statement (a copy of the driver's JobSql.Claim), rolled back.</summary>
    private static async Task ExplainClaimAsync(NpgsqlDataSource ds, string schema, int limit)
    {
        await using var conn = await ds.OpenConnectionAsync().ConfigureAwait(false);
        await using var tx = await conn.BeginTransactionAsync().ConfigureAwait(false);
        await using var cmd = new NpgsqlCommand($"""
            EXPLAIN (ANALYZE, BUFFERS)
            WITH next AS MATERIALIZED (
                SELECT id FROM {schema}.jobs
                WHERE queue_name = $1 AND state IN (0, 2) AND run_at <= now()
                ORDER BY priority DESC, run_at, id
                LIMIT $2
                FOR UPDATE SKIP LOCKED
            )
            UPDATE {schema}.jobs AS j
            SET state = 1, attempts = j.attempts + 1, worker_id = 'explain', lease_expires_at = now() + interval '30 seconds',
                started_at = now(), updated_at = now(), cancel_requested = false, paused_from = NULL
            FROM next WHERE j.id = next.id
            RETURNING j.id, j.name, j.payload::text, j.attempts, j.max_attempts, j.priority, j.created_at, j.run_at, j.headers::text
            """, conn, tx);
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = Queue });
        cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limit });
        var plan = new StringBuilder("claim plan (rolled back):\n");
        await using (var reader = await cmd.ExecuteReaderAsync().ConfigureAwait(false))
        {
            while (await reader.ReadAsync().ConfigureAwait(false))
            {
                plan.Append("    ").AppendLine(reader.GetString(0));
            }
        }

        await tx.RollbackAsync().ConfigureAwait(false);
        Log(plan.ToString().TrimEnd());
    }

    private readonly record struct ServerStats(long Commits, long WalBytes, long Statements);

    private static async Task<ServerStats> ServerStatsAsync(NpgsqlDataSource ds)
    {
        await using var cmd = ds.CreateCommand("""
            SELECT (SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()),
                   pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '0/0')::bigint,
                   coalesce((SELECT sum(calls)::bigint FROM pg_stat_statements WHERE to_regclass('pg_stat_statements') IS NOT NULL), 0)
            """);
        try
        {
            await using var reader = await cmd.ExecuteReaderAsync().ConfigureAwait(false);
            await reader.ReadAsync().ConfigureAwait(false);
            return new ServerStats(reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2));
        }
        catch (PostgresException)
        {
            await using var fallback = ds.CreateCommand(
                "SELECT (SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()), pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '0/0')::bigint");
            await using var reader = await fallback.ExecuteReaderAsync().ConfigureAwait(false);
            await reader.ReadAsync().ConfigureAwait(false);
            return new ServerStats(reader.GetInt64(0), reader.GetInt64(1), 0);
        }
    }

    private static Process StartSelf(IEnumerable<string> args)
    {
        var host = Environment.ProcessPath ?? throw new InvalidOperationException("Cannot find this program's path to start worker processes.");
        var psi = new ProcessStartInfo(host)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        if (Path.GetFileNameWithoutExtension(host).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
        {
            psi.ArgumentList.Add(typeof(EndToEndBenchmark).Assembly.Location);
        }

        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        return Process.Start(psi) ?? throw new InvalidOperationException($"Could not start worker process {host}.");
    }

    private static async Task WaitForLineAsync(Process process, string expected)
    {
        string? line;
        while ((line = await process.StandardOutput.ReadLineAsync().ConfigureAwait(false)) is not null)
        {
            if (line == expected)
            {
                return;
            }
        }

        throw new InvalidOperationException($"Worker process {process.Id} ended before printing '{expected}'.");
    }

    // ---------------------------------------------------------------- output

    private sealed record Result(string Json, string? Error);

    private static Result Throughput(BenchOptions o, TimeSpan elapsed, string? error, string extra = "") =>
        new(Line(o.Workload, o.Jobs, elapsed, o.Jobs / elapsed.TotalSeconds, null, null, extra), error);

    private static string Line(string workload, int jobs, TimeSpan elapsed, double? jobsPerSec, double? p50, double? p99, string extra = "")
    {
        var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("workload", workload);
            w.WriteNumber("jobs", jobs);
            w.WriteNumber("seconds", Math.Round(elapsed.TotalSeconds, 3));
            WriteOrNull(w, "jobs_per_sec", jobsPerSec is { } j ? Math.Round(j) : null);
            WriteOrNull(w, "p50_ms", p50 is { } a ? Math.Round(a, 2) : null);
            WriteOrNull(w, "p99_ms", p99 is { } b ? Math.Round(b, 2) : null);
            w.WriteEndObject();
        }

        var json = Encoding.UTF8.GetString(buffer.ToArray());
        return extra.Length == 0 ? json : json[..^1] + extra + "}";
    }

    private static void WriteOrNull(Utf8JsonWriter w, string name, double? value)
    {
        if (value is { } v)
        {
            w.WriteNumber(name, v);
        }
        else
        {
            w.WriteNull(name);
        }
    }

    private static string Json(long? value) => value?.ToString(CultureInfo.InvariantCulture) ?? "null";

    private static void Log(string message) => Console.Error.WriteLine($"[bench] {message}");

    /// <summary>
    /// With <c>BENCH_MARKS=1</c>, prints <c>[bench-mark] name</c> on stderr at the drain's start and end, so that a profiler
    /// (perf record -p) can be attached to the measured window only.
    /// </summary>
    private static void Mark(string name)
    {
        if (Environment.GetEnvironmentVariable("BENCH_MARKS") == "1")
        {
            Console.Error.WriteLine($"[bench-mark] {name}");
            Console.Error.Flush();
            if (Environment.GetEnvironmentVariable("DOTNET_JitDisasmSummary") == "1")
            {
                Console.Out.WriteLine($"[bench-mark] {name}"); // between the JIT's own lines (DOTNET_JitStdOutFile unset)
                Console.Out.Flush();
            }
        }
    }
}
