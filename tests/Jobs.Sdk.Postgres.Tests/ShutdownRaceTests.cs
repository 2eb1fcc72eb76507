using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using Jobs.Sdk.Drivers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// Stops and disposals of a hosted worker that race its background loops: the host's stop cut short by its own shutdown
/// timeout (here: at once) while a loop is inside a store call, and the container disposed right after. Nothing may throw,
/// hang, or lose a job (README "Workers": interrupted and unstarted jobs go back to pending, uncounted).
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class ShutdownRaceTests(PostgresFixture fixture)
{
    /// <summary>
    /// A lease of about an hour (no rescue within a test: only a give-back frees a job) that no other statement sends: the
    /// claim's bind message carries it (float8, binary), so the proxy can hold that claim's reply and no other.
    /// </summary>
    private static readonly TimeSpan Lease = TimeSpan.FromMilliseconds(3_599_321);

    /// <summary>
    /// The host's stop is cut short (ShutdownTimeout = 0) while the worker's claim is on its way back: the database
    /// committed it, its reply is still in the network. The reply then arrives (the connection's cancellation waits for
    /// it). The worker never ran the job, so it must be pending again, its attempt not counted, at once: not 'processing'
    /// until its hour-long lease expires and then failed by the rescue (its one attempt spent on a run that never began).
    /// </summary>
    [Fact]
    public async Task A_claim_reply_that_arrives_after_a_host_stop_cut_short_gives_its_jobs_back()
    {
        await using var proxy = PushFaults.StartProxy(fixture);
        await using var direct = fixture.CreateDataSource();
        // Cancellation Timeout 0: a cancelled statement waits for its reply however long it takes (the network decides).
        await using var throughProxy = fixture.CreateDataSource(b =>
        {
            b.Host = "127.0.0.1";
            b.Port = proxy.Port;
            b.Pooling = false;
            b.CancellationTimeout = 0;
        });
        var ran = new StrongBox<int>();
        var queueName = "claimrace_" + Guid.NewGuid().ToString("N")[..8];
        using var host = BuildHost(throughProxy, direct, queueName, ran);
        var id = await host.Services.GetRequiredService<JobQueue>().PushAsync(new ValueJob(1), new JobOptions { MaxAttempts = 1 });

        var lease = new byte[8];
        BinaryPrimitives.WriteDoubleBigEndian(lease, Lease.TotalMilliseconds);
        proxy.HoldRepliesAfter(lease);
        await host.StartAsync();
        await TestExtensions.EventuallyAsync(async () => await StateAsync(direct, id) == (short)JobState.Processing, 60, "the claim committed");

        var failure = await Record.ExceptionAsync(async () =>
        {
            await host.StopAsync().WaitAsync(TimeSpan.FromSeconds(60));
            proxy.Resume(); // the claim's reply arrives
            await ((IAsyncDisposable)host).DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(60));
        });
        Assert.True(failure is null, $"Stopping or disposing the host failed: {failure}");

        await TestExtensions.EventuallyAsync(async () => await StateAsync(direct, id) != (short)JobState.Processing, 60,
            $"the job the worker never ran is given back (it is {(JobState)await StateAsync(direct, id)} 60 s after the host was disposed; its lease is an hour)");
        var attempts = await direct.ScalarAsync($"SELECT attempts FROM jobs_test.jobs WHERE id = '{id.Value}'");
        Assert.True(await StateAsync(direct, id) == (short)JobState.Pending && attempts == 0 && ran.Value == 0,
            $"The job is {(JobState)await StateAsync(direct, id)} with {attempts} attempt(s); its handler ran {ran.Value} time(s).");
    }

    /// <summary>
    /// As above, but the claim's reply is held through the host's disposal too (a claim that ignores its token): disposing
    /// must neither throw nor wait for it beyond its bound, and when the reply finally comes, the worker (its container
    /// gone) must not fault on what the disposal released, and gives its jobs back (the data source is still open).
    /// </summary>
    [Fact]
    public async Task A_claim_reply_held_past_the_host_disposal_neither_holds_the_disposal_nor_faults_the_worker_later()
    {
        await using var proxy = PushFaults.StartProxy(fixture);
        await using var direct = fixture.CreateDataSource();
        await using var throughProxy = fixture.CreateDataSource(b =>
        {
            b.Host = "127.0.0.1";
            b.Port = proxy.Port;
            b.Pooling = false;
            b.CancellationTimeout = 0;
        });
        var ran = new StrongBox<int>();
        var queueName = "claimrace_" + Guid.NewGuid().ToString("N")[..8];
        var logs = new LevelLog();
        // Two slots for one job: the claim returns fewer jobs than it asked for, and gives the other slot back.
        using var host = BuildHost(throughProxy, direct, queueName, ran, logs, concurrency: 2);
        var id = await host.Services.GetRequiredService<JobQueue>().PushAsync(new ValueJob(1), new JobOptions { MaxAttempts = 1 });
        var worker = host.Services.GetRequiredService<JobWorker>();

        var lease = new byte[8];
        BinaryPrimitives.WriteDoubleBigEndian(lease, Lease.TotalMilliseconds);
        proxy.HoldRepliesAfter(lease);
        await host.StartAsync();
        await TestExtensions.EventuallyAsync(async () => await StateAsync(direct, id) == (short)JobState.Processing, 60, "the claim committed");

        var failure = await Record.ExceptionAsync(async () =>
        {
            await host.StopAsync().WaitAsync(TimeSpan.FromSeconds(60));
            await ((IAsyncDisposable)host).DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(60));
        });
        Assert.True(failure is null, $"Stopping or disposing the host failed: {failure}");

        proxy.Resume(); // the claim's reply arrives after the container was disposed
        await TestExtensions.EventuallyAsync(() => Task.FromResult(worker.ClaimLoopCompleted), 60, "the worker's claim loop ends");
        Assert.True(worker.ClaimLoopFault is null, $"The worker's claim loop faulted after the disposal: {worker.ClaimLoopFault}");
        Assert.True(logs.Errors.IsEmpty, $"Errors were logged: {string.Join(" | ", logs.Errors)}");
        Assert.Equal(0, ran.Value);
        Assert.Equal((short)JobState.Pending, await StateAsync(direct, id));
    }

    /// <summary>
    /// The store goes away for good while a job runs (here its data source is disposed before the host, as an
    /// <c>await using</c> declared after the host's does), and the host stops and is disposed. The interrupted job's
    /// outcome can never be written: the stop may wait for it up to its bounds, but once the host is disposed nothing of
    /// the worker may go on retrying (and logging a failure every few seconds) for as long as the process lives.
    /// </summary>
    [Fact]
    public async Task A_host_disposed_after_its_store_went_away_leaves_no_worker_loop_retrying()
    {
        var dataSource = fixture.CreateDataSource();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var builder = Host.CreateApplicationBuilder();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(1));
        builder.Services.AddJobs(jobs => jobs
            .UsePostgres(dataSource, o =>
            {
                o.Schema = "jobs_test";
                o.QueueName = "storegone_" + Guid.NewGuid().ToString("N")[..8];
                o.PollInterval = TimeSpan.FromMilliseconds(100);
            })
            .AddJob<ValueJob>(async (_, _, ct) =>
            {
                started.TrySetResult();
                await Task.Delay(Timeout.Infinite, ct);
            })
            .AddWorkers(o => o.Concurrency = 2));
        using var host = builder.Build();
        var worker = host.Services.GetRequiredService<JobWorker>();
        await host.StartAsync();
        await host.Services.GetRequiredService<JobQueue>().PushAsync(new ValueJob(1));
        await started.Task.WaitAsync(TimeSpan.FromSeconds(60));
        await dataSource.DisposeAsync();

        var failure = await Record.ExceptionAsync(async () =>
        {
            await host.StopAsync().WaitAsync(TimeSpan.FromSeconds(60));
            await ((IAsyncDisposable)host).DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(60));
        });
        Assert.True(failure is null, $"Stopping or disposing the host failed: {failure}");
        await TestExtensions.EventuallyAsync(() => Task.FromResult(worker.CompleterLoopCompleted), 60,
            "the worker's outcome writer ends after the host was disposed (it still retries the outcome the disposed data source cannot write)");
    }

    /// <summary>
    /// A worker disposed by several callers at once (a host's disposal racing the app's own <c>await using</c>, or a
    /// container disposed while a stop runs) while a job runs: every call must return without throwing, and the job must
    /// be pending again (its handler honours its token).
    /// </summary>
    [Fact]
    public async Task A_worker_disposed_concurrently_while_a_job_runs_does_not_throw()
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>(async (_, _, ct) =>
        {
            started.TrySetResult();
            await Task.Delay(Timeout.Infinite, ct);
        }), worker: o => o.ShutdownTimeout = TimeSpan.FromMilliseconds(100));
        await q.StartAsync();
        var id = await q.Queue.PushAsync(new ValueJob(1), new JobOptions { MaxAttempts = 1 });
        await started.Task.WaitAsync(TimeSpan.FromSeconds(60));
        var worker = q.Worker;

        var calls = Enumerable.Range(0, 8).Select(i => i % 4 == 3
            ? worker.StopAsync(CancellationToken.None)
            : Task.Run(async () => await worker.DisposeAsync())).ToArray();
        var failure = await Record.ExceptionAsync(() => Task.WhenAll(calls).WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.True(failure is null, $"Disposing the worker concurrently failed: {string.Join(" | ", calls.Where(c => c.IsFaulted).Select(c => c.Exception!.InnerException))}");
        var job = (await q.Queue.GetJobAsync(id))!;
        Assert.True(job.State == JobState.Pending && job.Attempts == 0, $"After the disposals the job is {job.State} with {job.Attempts} attempt(s).");
    }

    /// <summary>
    /// The database is unreachable when the host starts, and the app disposes the host without stopping it (its start is
    /// still waiting for the database: an exception elsewhere in <c>Main</c>, or a test's <c>await using</c>). The disposal
    /// must return without throwing or waiting for the database, and the start must end (not hang on).
    /// </summary>
    [Fact]
    public async Task Disposing_a_host_whose_start_waits_for_an_unreachable_database_ends_both()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var closedPort = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();

        var logs = new EventIdLog();
        var errors = new LevelLog();
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders().AddProvider(logs).AddProvider(errors);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromMinutes(10));
        builder.Services.AddJobs(jobs => jobs
            .UsePostgres($"Host=127.0.0.1;Port={closedPort};Username=postgres;Database=postgres;Timeout=2", o => o.Schema = "jobs_test")
            .AddJob<ValueJob>((_, _, _) => Task.CompletedTask)
            .AddSchedule(s => s.Add(new ValueJob(1), Schedule.Hourly(), ScheduleAccuracy.All, key: "unreachable"))
            .AddWorkers(o => o.Concurrency = 1));
        var host = builder.Build();
        var start = host.StartAsync();
        await TestExtensions.EventuallyAsync(() => Task.FromResult(logs.Ids.Contains(2003) || start.IsCompleted), 60, "a retry is logged");
        Assert.False(start.IsCompleted, $"The host started (or failed to) with the database unreachable: {start.Exception}");

        var disposed = await Record.ExceptionAsync(() => ((IAsyncDisposable)host).DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.True(disposed is null, $"Disposing the host failed: {disposed}");
        var started = await Record.ExceptionAsync(() => start.WaitAsync(TimeSpan.FromSeconds(60)));
        // The start ends with the driver's own account of it (disposed before the schema was ready), not a hang.
        Assert.True(started is OperationCanceledException or JobQueueUnavailableException, $"The start ended with {started?.ToString() ?? "success"}");
        // The host itself logs that its start failed (event 11): it did. The SDK's services log no error of their own.
        var ours = errors.Errors.Where(e => e.StartsWith("Jobs.Sdk", StringComparison.Ordinal)).ToArray();
        Assert.True(ours.Length == 0, $"Errors were logged: {string.Join(" | ", ours)}");
    }

    /// <summary>
    /// README "Operating": workers "remove themselves on a graceful stop". A host whose shutdown timeout passed (here: at
    /// once) still stops gracefully (its worker puts its jobs back within a short grace): its worker must not stay listed
    /// as live (in <c>jobs workers</c>, the dashboard, the CLI's queue checks) until its last report's lease runs out.
    /// </summary>
    [Fact]
    public async Task A_host_stop_past_its_shutdown_timeout_still_removes_its_worker_from_the_live_workers()
    {
        await using var dataSource = fixture.CreateDataSource();
        var builder = Host.CreateApplicationBuilder();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.Zero);
        builder.Services.AddJobs(jobs => jobs
            .UsePostgres(dataSource, o =>
            {
                o.Schema = "jobs_test";
                o.QueueName = "presencecut_" + Guid.NewGuid().ToString("N")[..8];
                o.PollInterval = TimeSpan.FromMilliseconds(100);
            })
            .AddJob<ValueJob>((_, _, _) => Task.CompletedTask)
            .AddWorkers(o =>
            {
                o.Concurrency = 1;
                o.LeaseDuration = TimeSpan.FromMinutes(10); // the row would stay listed for 10 min
            }));
        using var host = builder.Build();
        await host.StartAsync();
        var admin = host.Services.GetRequiredService<JobAdmin>();
        var worker = host.Services.GetRequiredService<JobWorker>();
        await TestExtensions.EventuallyAsync(async () => (await admin.GetWorkersAsync()).Any(w => w.WorkerId == worker.WorkerId), 60,
            "the worker reports its presence");

        await host.StopAsync().WaitAsync(TimeSpan.FromSeconds(60));

        var listed = (await JobAdminFor(dataSource).GetWorkersAsync()).Where(w => w.WorkerId == worker.WorkerId).ToArray();
        Assert.True(listed.Length == 0, $"After the host stopped, worker {worker.WorkerId} is still listed as live (until its lease ends, 10 min from its last report).");
    }

    private static JobAdmin JobAdminFor(NpgsqlDataSource dataSource) => PostgresJobAdmin.Create(dataSource, new PostgresJobDriverOptions { Schema = "jobs_test" });

    /// <summary>
    /// A host whose worker claims through <paramref name="dataSource"/>; its presence reports go to <paramref name="direct"/>
    /// (they carry the lease duration too, and must not be the statement the proxy holds).
    /// </summary>
    private static IHost BuildHost(NpgsqlDataSource dataSource, NpgsqlDataSource direct, string queueName, StrongBox<int> ran, LevelLog? logs = null,
        int concurrency = 1)
    {
        var builder = Host.CreateApplicationBuilder();
        if (logs is not null)
        {
            builder.Logging.AddProvider(logs);
        }

        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.Zero);
        builder.Services.AddJobs(jobs => jobs
            .UsePostgres(dataSource, o =>
            {
                o.Schema = "jobs_test";
                o.QueueName = queueName;
                o.PollInterval = TimeSpan.FromMilliseconds(100);
                o.Retention = new RetentionPolicy { CompletedJobs = Retain.Yes };
            })
            .AddJob<ValueJob>((_, _, _) =>
            {
                Interlocked.Increment(ref ran.Value);
                return Task.CompletedTask;
            })
            .AddWorkers(o =>
            {
                o.Concurrency = concurrency;
                o.LeaseDuration = Lease;
            }));
        builder.Services.AddSingleton<IJobAdminStore>(new PostgresJobAdminStore(direct, "jobs_test"));
        return builder.Build();
    }

    private static async Task<short> StateAsync(NpgsqlDataSource direct, JobId id)
    {
        await using var command = direct.CreateCommand("SELECT state FROM jobs_test.jobs WHERE id = $1");
        command.Parameters.Add(new NpgsqlParameter { Value = id.Value });
        return (short)(await command.ExecuteScalarAsync() ?? (short)-1);
    }
}
