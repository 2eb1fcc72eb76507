// A worker process for the multi-process, crash and restart tests of Jobs.Sdk.Postgres.
// Usage: dotnet Jobs.Sdk.Postgres.TestWorker.dll <connectionString> <schema> <queue> <runsTable> <concurrency> <leaseSeconds> <workMs> [prefetch] [globalConcurrency]
//        [ratePerSecond] [secondQueue] [keyed]
// With globalConcurrency (> 0) the queue gets that cluster-wide limit, with ratePerSecond (> 0) that rate limit, and with a
// secondQueue the process also serves that queue (AddQueue, same handlers). With any of them each run also records its span
// (database clock) in <runsTable>_spans (job_id, queue, started_at, ended_at), which the test creates.
// With "keyed" the worker also runs KeyedRecordJob and PairedRecordJob (per-key limits 1 and 2), recording each run's
// span and N in <runsTable>_keyed (job_id, n, worker, started_at, ended_at), which the test creates.
// With workMs = -1 RecordJob blocks its thread: it records its start (runs + 1) and then waits, in synchronous Npgsql calls,
// for a shared advisory lock on hashtext(<runsTable>) that the test holds, as a handler doing synchronous I/O would.
// Prints "READY" once the worker runs; stops gracefully when a line "stop" (or EOF) arrives on stdin.
// With a 13th argument "host:<ms>" the worker runs in a Generic Host (HostOptions.ShutdownTimeout = ms, no log output) as an
// app does: READY once the host started, and it stops on SIGTERM / Ctrl+C (stdin is not read).
// JOBS_TEST_SCHEDULE=ticks: the process also runs a scheduler (AddSchedule) of sixty entries "tick-00".."tick-59", each
// Schedule.EveryMinute(second) of a TickJob(second) with the default accuracy (Latest): together a fire every second of
// the real clock. Each TickJob run records its span in <runsTable>_ticks (run, job_id, second, scheduled_at, worker,
// started_at, ended_at), which the test creates, on the JOBS_TEST_RECORD_CONNECTION connection when given.
// JOBS_TEST_UNIQUE_PUSH=<keys>: once running, the process also pushes UniqueRecordJob(random key below <keys>, n) with
// TryPushAsync in a loop until it stops (errors, such as a lost connection, are ignored); each run of one records its span
// in <runsTable>_unique (run, job_id, key, worker, started_at, ended_at), as the ticks are.
using System.Text.Json;
using Jobs.Sdk;
using Jobs.Sdk.Postgres;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

if (args.Length < 7)
{
    Console.Error.WriteLine("usage: <connectionString> <schema> <queue> <runsTable> <concurrency> <leaseSeconds> <workMs>");
    return 2;
}

var (cs, schema, queue, table) = (args[0], args[1], args[2], args[3]);
var concurrency = int.Parse(args[4], System.Globalization.CultureInfo.InvariantCulture);
var lease = TimeSpan.FromSeconds(double.Parse(args[5], System.Globalization.CultureInfo.InvariantCulture));
var workMs = int.Parse(args[6], System.Globalization.CultureInfo.InvariantCulture);
var prefetch = args.Length > 7 ? int.Parse(args[7], System.Globalization.CultureInfo.InvariantCulture) : 0;
var globalConcurrency = args.Length > 8 ? int.Parse(args[8], System.Globalization.CultureInfo.InvariantCulture) : 0;
var ratePerSecond = args.Length > 9 ? double.Parse(args[9], System.Globalization.CultureInfo.InvariantCulture) : 0;
var secondQueue = args.Length > 10 && args[10].Length > 0 ? args[10] : null;
var spans = globalConcurrency > 0 || ratePerSecond > 0 || secondQueue is not null;
var keyed = args.Length > 11 && args[11] == "keyed";
TimeSpan? hostShutdown = args.Length > 12 && args[12].StartsWith("host:", StringComparison.Ordinal)
    ? TimeSpan.FromMilliseconds(int.Parse(args[12]["host:".Length..], System.Globalization.CultureInfo.InvariantCulture))
    : null;
if (!System.Text.RegularExpressions.Regex.IsMatch(table, "^[a-z_][a-z0-9_]*$"))
{
    Console.Error.WriteLine("bad table name");
    return 2;
}

await using var dataSource = PostgresJobsBuilderExtensions.CreateDataSource(cs);
// JOBS_TEST_RECORD_CONNECTION: the keyed runs are recorded on a connection of their own (the worker's may go through a
// proxy the test partitions), and every keyed run records its end, also when it was cancelled or failed (ok = false).
var recordCs = Environment.GetEnvironmentVariable("JOBS_TEST_RECORD_CONNECTION");
await using var recordSource = recordCs is null ? null : NpgsqlDataSource.Create(recordCs);
var insert = $"INSERT INTO \"{schema}\".{table} (job_id, runs, worker) VALUES ($1, 1, $2) ON CONFLICT (job_id) DO UPDATE SET runs = {table}.runs + 1";
var spanStart = $"INSERT INTO \"{schema}\".{table}_spans (job_id, queue, started_at) VALUES ($1, $2, clock_timestamp())";
var spanEnd = $"UPDATE \"{schema}\".{table}_spans SET ended_at = clock_timestamp() WHERE job_id = $1";
async Task SpanAsync(string sql, Guid id, string? queueName, CancellationToken ct)
{
    if (spans)
    {
        await using var span = dataSource.CreateCommand(sql);
        span.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
        if (queueName is not null)
        {
            span.Parameters.Add(new NpgsqlParameter<string> { TypedValue = queueName });
        }

        await span.ExecuteNonQueryAsync(ct);
    }
}

var keyedStart = $"INSERT INTO \"{schema}\".{table}_keyed (job_id, n, worker, started_at) VALUES ($1, $2, $3, clock_timestamp())";
var keyedEnd = $"UPDATE \"{schema}\".{table}_keyed SET ended_at = clock_timestamp() WHERE job_id = $1";
var keyedStartOwn = $"INSERT INTO \"{schema}\".{table}_keyed (job_id, n, worker, lease, started_at) VALUES ($1, $2, $3, $4, clock_timestamp())";
var keyedEndOwn = $"UPDATE \"{schema}\".{table}_keyed SET ended_at = clock_timestamp(), ok = $2 WHERE lease = $1";
async Task KeyedRunAsync(int n, JobContext context, CancellationToken ct)
{
    if (recordSource is not null)
    {
        await RecordedKeyedRunAsync(recordSource, n, context, ct);
        return;
    }

    await using (var start = dataSource.CreateCommand(keyedStart))
    {
        start.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = context.Id.Value });
        start.Parameters.Add(new NpgsqlParameter<int> { TypedValue = n });
        start.Parameters.Add(new NpgsqlParameter<string> { TypedValue = context.WorkerId });
        await start.ExecuteNonQueryAsync(ct);
    }

    await Task.Delay(workMs, ct);
    // A server restart while the end is recorded fails that statement (57P01, the connection gone), not the run: the end
    // is recorded once the server is back (the latest-run trigger makes a repeat harmless). A handler that failed here was
    // retried, a second run after a live worker's run that the chaos tests count as a broken promise
    // (RestartDuringRunTests). A lost lease (ct) still ends the run unrecorded.
    for (var attempt = 1; ; attempt++)
    {
        try
        {
            await using var end = dataSource.CreateCommand(keyedEnd);
            end.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = context.Id.Value });
            await end.ExecuteNonQueryAsync(ct);
            return;
        }
        catch (NpgsqlException) when (!ct.IsCancellationRequested && attempt < 100)
        {
            await Task.Delay(100, ct);
        }
    }
}

async Task RecordedKeyedRunAsync(NpgsqlDataSource record, int n, JobContext context, CancellationToken ct)
{
    var run = Guid.NewGuid();
    await using (var start = record.CreateCommand(keyedStartOwn))
    {
        start.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = context.Id.Value });
        start.Parameters.Add(new NpgsqlParameter<int> { TypedValue = n });
        start.Parameters.Add(new NpgsqlParameter<string> { TypedValue = context.WorkerId });
        start.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = run });
        await start.ExecuteNonQueryAsync(CancellationToken.None);
    }

    var ok = false;
    try
    {
        await Task.Delay(workMs, ct);
        ok = true;
    }
    finally
    {
        await using var end = record.CreateCommand(keyedEndOwn);
        end.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = run });
        end.Parameters.Add(new NpgsqlParameter<bool> { TypedValue = ok });
        await end.ExecuteNonQueryAsync(CancellationToken.None);
    }
}

var tickStart = $"INSERT INTO \"{schema}\".{table}_ticks (run, job_id, second, scheduled_at, worker, started_at) VALUES ($1, $2, $3, $4, $5, clock_timestamp())";
var tickEnd = $"UPDATE \"{schema}\".{table}_ticks SET ended_at = clock_timestamp() WHERE run = $1";
async Task TickRunAsync(TickJob job, JobContext context, CancellationToken ct)
{
    var record = recordSource ?? dataSource;
    var run = Guid.NewGuid();
    await using (var start = record.CreateCommand(tickStart))
    {
        start.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = run });
        start.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = context.Id.Value });
        start.Parameters.Add(new NpgsqlParameter<int> { TypedValue = job.Second });
        start.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = context.ScheduledAt?.ToUniversalTime() ?? DateTimeOffset.UnixEpoch });
        start.Parameters.Add(new NpgsqlParameter<string> { TypedValue = context.WorkerId });
        await start.ExecuteNonQueryAsync(ct);
    }

    if (workMs > 0)
    {
        await Task.Delay(workMs, ct);
    }

    await using var end = record.CreateCommand(tickEnd);
    end.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = run });
    await end.ExecuteNonQueryAsync(ct);
}

var uniqueStart = $"INSERT INTO \"{schema}\".{table}_unique (run, job_id, key, worker, started_at) VALUES ($1, $2, $3, $4, clock_timestamp())";
var uniqueEnd = $"UPDATE \"{schema}\".{table}_unique SET ended_at = clock_timestamp() WHERE run = $1";
async Task UniqueRunAsync(UniqueRecordJob job, JobContext context, CancellationToken ct)
{
    var record = recordSource ?? dataSource;
    var run = Guid.NewGuid();
    await using (var start = record.CreateCommand(uniqueStart))
    {
        start.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = run });
        start.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = context.Id.Value });
        start.Parameters.Add(new NpgsqlParameter<int> { TypedValue = job.Key });
        start.Parameters.Add(new NpgsqlParameter<string> { TypedValue = context.WorkerId });
        await start.ExecuteNonQueryAsync(ct);
    }

    if (workMs > 0)
    {
        await Task.Delay(workMs, ct);
    }

    await using var end = record.CreateCommand(uniqueEnd);
    end.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = run });
    await end.ExecuteNonQueryAsync(ct);
}

async Task PushUniqueAsync(JobQueue jobs, int keys, CancellationToken ct)
{
    var random = new Random(Environment.ProcessId);
    for (var n = 0; !ct.IsCancellationRequested; n++)
    {
        try
        {
            await jobs.TryPushAsync(new UniqueRecordJob(random.Next(keys), n), cancellationToken: ct);
            await Task.Delay(random.Next(30), ct);
        }
        catch (Exception) when (ct.IsCancellationRequested)
        {
            return; // stopping (a push in flight may also fail on a connection the server dropped just before)
        }
        catch (Exception)
        {
            // A lost connection or a server restart: whether that push stored its job is for the test to read.
        }
    }
}

void BlockUntilReleased(Guid id, string worker)
{
    using var connection = dataSource.OpenConnection();
    using (var start = new NpgsqlCommand(insert, connection))
    {
        start.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
        start.Parameters.Add(new NpgsqlParameter<string> { TypedValue = worker });
        start.ExecuteNonQuery();
    }

    using var wait = new NpgsqlCommand($"SELECT pg_advisory_lock_shared(hashtext('{table}')), pg_advisory_unlock_shared(hashtext('{table}'))", connection);
    wait.CommandTimeout = 0;
    wait.ExecuteNonQuery();
}

var hostBuilder = hostShutdown is null ? null : Host.CreateApplicationBuilder();
IServiceCollection services = hostBuilder?.Services ?? new ServiceCollection();
services.AddJobs(jobs => jobs
    .UsePostgres(dataSource, o =>
    {
        o.Schema = schema;
        o.QueueName = queue;
        o.PollInterval = TimeSpan.FromMilliseconds(200);
    })
    // A handler that fails because the server restarted is retried promptly (the fault tests stay short).
    .ConfigureQueue(q => q.DefaultRetryStrategy = JobRetryStrategy.ExponentialJitter(maxAttempts: 10, maxBackoff: TimeSpan.FromMilliseconds(500)))
    .AddQueue(queue, q =>
    {
        q.GlobalConcurrency = globalConcurrency > 0 ? globalConcurrency : null;
        q.RateLimit = ratePerSecond > 0 ? RateLimit.PerSecond(ratePerSecond) : null;
    })
    .AddQueueIf(secondQueue)
    .AddJob<RecordJob>(async (job, context, ct) =>
    {
        if (workMs < 0)
        {
            BlockUntilReleased(context.Id.Value, context.WorkerId);
            return;
        }

        await SpanAsync(spanStart, context.Id.Value, context.QueueName, ct);
        if (workMs > 0)
        {
            await Task.Delay(workMs, ct);
        }

        await SpanAsync(spanEnd, context.Id.Value, null, ct);

        await using var command = dataSource.CreateCommand(insert);
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = context.Id.Value });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = context.WorkerId });
        await command.ExecuteNonQueryAsync(ct);
    })
    .AddJob<KeyedRecordJob>((job, context, ct) => keyed ? KeyedRunAsync(job.N, context, ct) : Task.CompletedTask)
    .AddJob<PairedRecordJob>((job, context, ct) => keyed ? KeyedRunAsync(job.N, context, ct) : Task.CompletedTask)
    .AddJob<TickJob>(TickRunAsync)
    .AddJob<UniqueRecordJob>(UniqueRunAsync)
    .AddTicksIf(Environment.GetEnvironmentVariable("JOBS_TEST_SCHEDULE") == "ticks")
    .AddWorkers(o =>
    {
        o.Concurrency = concurrency;
        o.Prefetch = prefetch;
        o.LeaseDuration = lease;
        o.RescueInterval = TimeSpan.FromSeconds(1);
        o.ShutdownTimeout = TimeSpan.FromSeconds(10);
    }));
if (hostBuilder is not null)
{
    hostBuilder.Logging.ClearProviders();
    hostBuilder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = hostShutdown!.Value);
    using var host = hostBuilder.Build();
    host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStarted.Register(() =>
    {
        Console.WriteLine("READY");
        Console.Out.Flush();
    });
    await host.RunAsync();
    Console.WriteLine("STOPPED");
    return 0;
}

await using var provider = services.BuildServiceProvider();
var worker = provider.GetRequiredService<JobWorker>();
await provider.GetRequiredService<PostgresJobDriver>().WaitUntilReadyAsync(CancellationToken.None);
await worker.StartAsync(CancellationToken.None);
var scheduler = provider.GetService<JobScheduler>();
if (scheduler is not null)
{
    await scheduler.StartAsync(CancellationToken.None);
}

using var pushStop = new CancellationTokenSource();
var pusher = int.TryParse(Environment.GetEnvironmentVariable("JOBS_TEST_UNIQUE_PUSH"), out var uniqueKeys) && uniqueKeys > 0
    ? Task.Run(() => PushUniqueAsync(provider.GetRequiredService<JobQueue>(), uniqueKeys, pushStop.Token))
    : Task.CompletedTask;
Console.WriteLine("READY");
Console.Out.Flush();
while (Console.ReadLine() is { } line && line != "stop")
{
}

await pushStop.CancelAsync();
await pusher;
if (scheduler is not null)
{
    await scheduler.StopAsync(CancellationToken.None);
}

await worker.StopAsync(CancellationToken.None);
Console.WriteLine("STOPPED");
return 0;

internal static class TestWorkerQueues
{
    /// <summary>Declares <paramref name="queue"/> (served by the same workers) when given.</summary>
    public static JobsBuilder AddQueueIf(this JobsBuilder jobs, string? queue) => queue is null ? jobs : jobs.AddQueue(queue);

    /// <summary>With <paramref name="ticks"/>, sixty schedule entries: a <see cref="TickJob"/> at every second of the minute.</summary>
    public static JobsBuilder AddTicksIf(this JobsBuilder jobs, bool ticks) => !ticks ? jobs : jobs.AddSchedule(s =>
    {
        for (var second = 0; second < 60; second++)
        {
            s.Add(new TickJob(second), Schedule.EveryMinute(second), key: $"tick-{second:00}");
        }
    });
}
