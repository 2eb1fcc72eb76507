// A worker process for the multi-process, crash and restart tests of Jobs.Sdk.Postgres.
// Usage: dotnet Jobs.Sdk.Postgres.TestWorker.dll <connectionString> <schema> <queue> <runsTable> <concurrency> <leaseSeconds> <workMs> [prefetch] [globalConcurrency]
//        [ratePerSecond] [secondQueue] [keyed]
// With globalConcurrency (> 0) the queue gets that cluster-wide limit, with ratePerSecond (> 0) that rate limit, and with a
// secondQueue the process also serves that queue (AddQueue, same handlers). With any of them each run also records its span
// (database clock) in <runsTable>_spans (job_id, queue, run unique, started_at, ended_at), which the test creates; every run
// records itself in <runsTable> (job_id primary key, runs, worker, run): runs + 1.
// With "keyed" the worker also runs KeyedRecordJob and PairedRecordJob (per-key limits 1 and 2), recording each run's
// span and N in <runsTable>_keyed (job_id, n, worker, run unique, started_at, ended_at), which the test creates.
// Every record a handler writes is retried through a server restart (RecordWrite.cs).
// With workMs = -1 RecordJob blocks its thread: it records its start (runs + 1) and then waits, in synchronous Npgsql calls,
// for a shared advisory lock on hashtext(<runsTable>) that the test holds, as a handler doing synchronous I/O would. With
// workMs = -2 it does the same in asynchronous Npgsql calls it blocks on with .Wait() (sync over async, as .Result does).
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
// JOBS_TEST_POLL_MS=<ms>: the driver's poll interval (default 200 ms). JOBS_TEST_DRIVER=connection-string: the driver is
// configured with UsePostgres(connectionString) (it builds and owns its data source), as an app may, instead of the
// process's CreateDataSource data source.
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
// Every record of a run is written by RecordWrite (retried through a server restart), so each statement is idempotent:
// a run's id (the column run, unique in the tables of spans, keyed runs, ticks and unique runs) tells a repeat from the next run.
var insert = $"INSERT INTO \"{schema}\".{table} (job_id, runs, worker, run) VALUES ($1, 1, $2, $3) ON CONFLICT (job_id) DO UPDATE SET runs = {table}.runs + 1, run = EXCLUDED.run WHERE {table}.run IS DISTINCT FROM EXCLUDED.run";
var spanStart = $"INSERT INTO \"{schema}\".{table}_spans (job_id, queue, run, started_at) VALUES ($1, $2, $3, clock_timestamp()) ON CONFLICT (run) DO NOTHING";
var spanEnd = $"UPDATE \"{schema}\".{table}_spans SET ended_at = clock_timestamp() WHERE run = $1 AND ended_at IS NULL";
async Task RecordRunAsync(JobContext context, CancellationToken ct)
{
    var run = Guid.NewGuid();
    if (spans)
    {
        await RecordWrite.ExecuteAsync(dataSource, spanStart, p => p.With(context.Id.Value).With(context.QueueName).With(run), ct);
    }

    if (workMs > 0)
    {
        await Task.Delay(workMs, ct);
    }

    if (spans)
    {
        await RecordWrite.ExecuteAsync(dataSource, spanEnd, p => p.With(run), ct);
    }

    await RecordWrite.ExecuteAsync(dataSource, insert, p => p.With(context.Id.Value).With(context.WorkerId).With(run), ct);
}

var keyedStart = $"INSERT INTO \"{schema}\".{table}_keyed (job_id, n, worker, run, started_at) VALUES ($1, $2, $3, $4, clock_timestamp()) ON CONFLICT (run) DO NOTHING";
var keyedEnd = $"UPDATE \"{schema}\".{table}_keyed SET ended_at = clock_timestamp() WHERE run = $1 AND ended_at IS NULL";
var keyedStartOwn = $"INSERT INTO \"{schema}\".{table}_keyed (job_id, n, worker, lease, started_at) VALUES ($1, $2, $3, $4, clock_timestamp()) ON CONFLICT (lease) DO NOTHING";
var keyedEndOwn = $"UPDATE \"{schema}\".{table}_keyed SET ended_at = clock_timestamp(), ok = $2 WHERE lease = $1 AND ended_at IS NULL";
async Task KeyedRunAsync(int n, JobContext context, CancellationToken ct)
{
    if (recordSource is not null)
    {
        await RecordedKeyedRunAsync(recordSource, n, context, ct);
        return;
    }

    var run = Guid.NewGuid();
    await RecordWrite.ExecuteAsync(dataSource, keyedStart, p => p.With(context.Id.Value).With(n).With(context.WorkerId).With(run), ct);
    await Task.Delay(workMs, ct);
    // Closes this run's row, unless a later run of the job started (the latest-run trigger: a lost lease's run stays open).
    await RecordWrite.ExecuteAsync(dataSource, keyedEnd, p => p.With(run), ct);
}

async Task RecordedKeyedRunAsync(NpgsqlDataSource record, int n, JobContext context, CancellationToken ct)
{
    var run = Guid.NewGuid();
    await RecordWrite.ExecuteAsync(record, keyedStartOwn, p => p.With(context.Id.Value).With(n).With(context.WorkerId).With(run), CancellationToken.None);
    var ok = false;
    try
    {
        await Task.Delay(workMs, ct);
        ok = true;
    }
    finally
    {
        await RecordWrite.ExecuteAsync(record, keyedEndOwn, p => p.With(run).With(ok), CancellationToken.None);
    }
}

var tickStart = $"INSERT INTO \"{schema}\".{table}_ticks (run, job_id, second, scheduled_at, worker, started_at) VALUES ($1, $2, $3, $4, $5, clock_timestamp()) ON CONFLICT (run) DO NOTHING";
var tickEnd = $"UPDATE \"{schema}\".{table}_ticks SET ended_at = clock_timestamp() WHERE run = $1 AND ended_at IS NULL";
async Task TickRunAsync(TickJob job, JobContext context, CancellationToken ct)
{
    var record = recordSource ?? dataSource;
    var run = Guid.NewGuid();
    var scheduledAt = context.ScheduledAt?.ToUniversalTime() ?? DateTimeOffset.UnixEpoch;
    await RecordWrite.ExecuteAsync(record, tickStart, p => p.With(run).With(context.Id.Value).With(job.Second).With(scheduledAt).With(context.WorkerId), ct);
    if (workMs > 0)
    {
        await Task.Delay(workMs, ct);
    }

    await RecordWrite.ExecuteAsync(record, tickEnd, p => p.With(run), ct);
}

var uniqueStart = $"INSERT INTO \"{schema}\".{table}_unique (run, job_id, key, worker, started_at) VALUES ($1, $2, $3, $4, clock_timestamp()) ON CONFLICT (run) DO NOTHING";
var uniqueEnd = $"UPDATE \"{schema}\".{table}_unique SET ended_at = clock_timestamp() WHERE run = $1 AND ended_at IS NULL";
async Task UniqueRunAsync(UniqueRecordJob job, JobContext context, CancellationToken ct)
{
    var record = recordSource ?? dataSource;
    var run = Guid.NewGuid();
    await RecordWrite.ExecuteAsync(record, uniqueStart, p => p.With(run).With(context.Id.Value).With(job.Key).With(context.WorkerId), ct);
    if (workMs > 0)
    {
        await Task.Delay(workMs, ct);
    }

    await RecordWrite.ExecuteAsync(record, uniqueEnd, p => p.With(run), ct);
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
        start.Parameters.With(id).With(worker).With(Guid.NewGuid());
        start.ExecuteNonQuery();
    }

    using var wait = new NpgsqlCommand($"SELECT pg_advisory_lock_shared(hashtext('{table}')), pg_advisory_unlock_shared(hashtext('{table}'))", connection);
    wait.CommandTimeout = 0;
    wait.ExecuteNonQuery();
}

async Task WaitUntilReleasedAsync(Guid id, string worker)
{
    await using var connection = await dataSource.OpenConnectionAsync();
    await using (var start = new NpgsqlCommand(insert, connection))
    {
        start.Parameters.With(id).With(worker).With(Guid.NewGuid());
        await start.ExecuteNonQueryAsync();
    }

    await using var wait = new NpgsqlCommand($"SELECT pg_advisory_lock_shared(hashtext('{table}')), pg_advisory_unlock_shared(hashtext('{table}'))", connection);
    wait.CommandTimeout = 0;
    await wait.ExecuteNonQueryAsync();
}

var hostBuilder = hostShutdown is null ? null : Host.CreateApplicationBuilder();
IServiceCollection services = hostBuilder?.Services ?? new ServiceCollection();
var pollInterval = TimeSpan.FromMilliseconds(int.TryParse(Environment.GetEnvironmentVariable("JOBS_TEST_POLL_MS"), out var pollMs) ? pollMs : 200);
void ConfigureDriver(PostgresJobDriverOptions o)
{
    o.Schema = schema;
    o.QueueName = queue;
    o.PollInterval = pollInterval;
}

var driverOwnsDataSource = Environment.GetEnvironmentVariable("JOBS_TEST_DRIVER") == "connection-string";
services.AddJobs(jobs => (driverOwnsDataSource ? jobs.UsePostgres(cs, ConfigureDriver) : jobs.UsePostgres(dataSource, ConfigureDriver))
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
        if (workMs == -2)
        {
            WaitUntilReleasedAsync(context.Id.Value, context.WorkerId).Wait(CancellationToken.None); // sync over async, ignoring the token
            return;
        }

        if (workMs < 0)
        {
            BlockUntilReleased(context.Id.Value, context.WorkerId);
            return;
        }

        await RecordRunAsync(context, ct);
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
