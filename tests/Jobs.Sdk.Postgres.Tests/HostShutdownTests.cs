using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Jobs.Sdk.Drivers;
using Microsoft.Extensions.Logging;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>Shutdown of workers run by a Generic Host, as an ASP.NET Core or worker-service app runs them.</summary>
[Collection(PostgresCollection.Name)]
public sealed class HostShutdownTests(PostgresFixture fixture)
{
    /// <summary>
    /// A host whose shutdown timeout has passed (here: at once) cancels the token every hosted service's <c>StopAsync</c>
    /// gets. Stopping must still succeed: <c>host.StopAsync</c> (and so <c>app.Run()</c>) must not throw because the SDK's
    /// services were told to hurry.
    /// </summary>
    [Fact]
    public async Task A_host_stop_past_its_shutdown_timeout_does_not_throw()
    {
        await using var dataSource = fixture.CreateDataSource();
        var builder = Host.CreateApplicationBuilder();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.Zero);
        builder.Services.AddJobs(jobs => jobs
            .UsePostgres(dataSource, o =>
            {
                o.Schema = "jobs_test";
                o.QueueName = "hoststop_" + Guid.NewGuid().ToString("N")[..8];
                o.PollInterval = TimeSpan.FromMilliseconds(100);
            })
            .AddJob<ValueJob>((_, _, _) => Task.CompletedTask)
            .AddWorkers(o => o.Concurrency = 1));
        using var host = builder.Build();
        await host.StartAsync();
        var admin = host.Services.GetRequiredService<JobAdmin>();
        var worker = host.Services.GetRequiredService<JobWorker>();
        await TestExtensions.EventuallyAsync(async () => (await admin.GetWorkersAsync()).Any(w => w.WorkerId == worker.WorkerId), 60,
            "the worker reports its presence");

        var stop = await Record.ExceptionAsync(() => host.StopAsync().WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.True(stop is null, $"host.StopAsync threw: {stop}");
    }

    /// <summary>
    /// The host's stop, cut short by its shutdown timeout, returns while the worker's presence report is still on its way (a
    /// store call stuck on a dead socket ignores its token). Disposing the host then disposes the container with the report
    /// still running: the disposal must neither throw (CI once saw <see cref="ObjectDisposedException"/> for the container
    /// here) nor wait for the stuck call longer than the final report's bound.
    /// </summary>
    [Fact]
    public async Task Disposing_a_host_whose_stop_was_cut_short_during_a_presence_report_does_not_throw()
    {
        await using var dataSource = fixture.CreateDataSource();
        HoldingAdminStore? store = null;
        var builder = Host.CreateApplicationBuilder();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.Zero);
        builder.Services.AddJobs(jobs => jobs
            .UsePostgres(dataSource, o =>
            {
                o.Schema = "jobs_test";
                o.QueueName = "hostdispose_" + Guid.NewGuid().ToString("N")[..8];
                o.PollInterval = TimeSpan.FromMilliseconds(100);
            })
            .AddJob<ValueJob>((_, _, _) => Task.CompletedTask)
            .AddWorkers(o =>
            {
                o.Concurrency = 1;
                o.LeaseDuration = TimeSpan.FromSeconds(3); // a heartbeat every second
            }));
        builder.Services.AddSingleton<IJobAdminStore>(sp => store = new HoldingAdminStore(sp.GetRequiredService<PostgresJobDriver>().CreateAdminStore()));
        var host = builder.Build();
        try
        {
            await host.StartAsync();
            var admin = host.Services.GetRequiredService<JobAdmin>();
            var worker = host.Services.GetRequiredService<JobWorker>();
            await TestExtensions.EventuallyAsync(async () => (await admin.GetWorkersAsync()).Any(w => w.WorkerId == worker.WorkerId), 60,
                "the worker reports its presence");
            store!.Hold();
            await store.Entered.WaitAsync(TimeSpan.FromSeconds(60));

            var failure = await Record.ExceptionAsync(async () =>
            {
                await host.StopAsync().WaitAsync(TimeSpan.FromSeconds(60));
                await ((IAsyncDisposable)host).DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(60));
            });
            Assert.True(failure is null, $"Stopping or disposing the host failed: {failure}");
        }
        finally
        {
            store?.Release();
        }
    }

    /// <summary>
    /// The host's <see cref="HostOptions.ShutdownTimeout"/> (5 s in ASP.NET Core on Kubernetes-style deploys, often set
    /// lower than <see cref="JobWorkerOptions.ShutdownTimeout"/>) cancels the token <c>StopAsync</c> gets. Handlers that honour
    /// their token must then be interrupted and their jobs put back to pending before the host finishes stopping, not
    /// left 'processing' until their lease expires.
    /// </summary>
    [Fact]
    public async Task A_host_shutdown_timeout_shorter_than_the_workers_puts_interrupted_jobs_back_before_the_host_stops()
    {
        await using var dataSource = fixture.CreateDataSource();
        var queueName = "hostshutdown_" + Guid.NewGuid().ToString("N")[..8];
        var started = 0;
        var allStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var builder = Host.CreateApplicationBuilder();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromMilliseconds(200));
        builder.Services.AddJobs(jobs => jobs
            .UsePostgres(dataSource, o =>
            {
                o.Schema = "jobs_test";
                o.QueueName = queueName;
                o.PollInterval = TimeSpan.FromMilliseconds(100);
            })
            .AddJob<ValueJob>(async (_, _, ct) =>
            {
                if (Interlocked.Increment(ref started) == 3)
                {
                    allStarted.TrySetResult();
                }

                await Task.Delay(Timeout.Infinite, ct);
            })
            .AddWorkers(o =>
            {
                o.Concurrency = 3;
                o.ShutdownTimeout = TimeSpan.FromMinutes(5);   // longer than the host gives
                o.LeaseDuration = TimeSpan.FromMinutes(10);    // no rescue can hide a job left processing
            }));
        var host = builder.Build();
        var queue = host.Services.GetRequiredService<JobQueue>();
        await host.StartAsync();
        var ids = new List<JobId>();
        for (var i = 0; i < 3; i++)
        {
            ids.Add(await queue.PushAsync(new ValueJob(i), new JobOptions { MaxAttempts = 1 }));
        }

        await allStarted.Task.WaitAsync(TimeSpan.FromSeconds(60));
        await host.StopAsync().WaitAsync(TimeSpan.FromSeconds(60));
        await ((IAsyncDisposable)host).DisposeAsync();

        await using var check = new ServiceCollection().AddJobs(j => j.UsePostgres(dataSource, o =>
        {
            o.Schema = "jobs_test";
            o.QueueName = queueName;
        })).BuildServiceProvider();
        var reader = check.GetRequiredService<JobQueue>();
        foreach (var id in ids)
        {
            var job = (await reader.GetJobAsync(id))!;
            Assert.True(job.State == JobState.Pending && job.Attempts == 0,
                $"After the host stopped, job {id} is {job.State} with {job.Attempts} attempt(s) (error: {job.LastError}).");
        }
    }

    /// <summary>
    /// The database is unreachable when the host starts: start-up waits for it (retrying, log event 2003, as documented).
    /// Ctrl+C / SIGTERM then (the application lifetime's StopApplication) must end the start, and stopping and disposing
    /// the host must finish at once, not wait for the unreachable database until the host's shutdown timeout.
    /// </summary>
    [Fact]
    public async Task Stopping_a_host_that_waits_for_an_unreachable_database_at_start_up_ends()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var closedPort = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();

        var logs = new EventIdLog();
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders().AddProvider(logs);
        // A stop that waited for the database would hang for this long instead of failing the 60 s bound below.
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromMinutes(10));
        builder.Services.AddJobs(jobs => jobs
            .UsePostgres($"Host=127.0.0.1;Port={closedPort};Username=postgres;Database=postgres;Timeout=2", o => o.Schema = "jobs_test")
            .AddJob<ValueJob>((_, _, _) => Task.CompletedTask)
            .AddWorkers(o => o.Concurrency = 1));
        var host = builder.Build();
        var start = host.StartAsync();
        await TestExtensions.EventuallyAsync(() => Task.FromResult(logs.Ids.Contains(2003) || start.IsCompleted), 60, "a retry is logged");
        Assert.False(start.IsCompleted, $"The host started (or failed to) with the database unreachable: {start.Exception}");

        host.Services.GetRequiredService<IHostApplicationLifetime>().StopApplication();
        var started = await Record.ExceptionAsync(() => start.WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.True(started is OperationCanceledException, $"The start ended with {started?.ToString() ?? "success"}");
        var stopped = await Record.ExceptionAsync(async () =>
        {
            await host.StopAsync().WaitAsync(TimeSpan.FromSeconds(60));
            await ((IAsyncDisposable)host).DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(60));
        });
        Assert.True(stopped is null, $"Stopping or disposing the host failed: {stopped}");
    }

    /// <summary>
    /// A worker stopped by hand (to stop processing) is stopped again by the host; a host's stop and its disposal can also
    /// overlap, and the container disposes the worker after both. None of these may throw or hang.
    /// </summary>
    [Fact]
    public async Task A_worker_stopped_twice_concurrently_and_after_disposal_does_not_throw()
    {
        var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>((_, _, _) => Task.CompletedTask));
        await q.StartAsync();
        await q.Queue.PushAsync(new ValueJob(1));
        var worker = q.Worker;
        var failure = await Record.ExceptionAsync(async () =>
        {
            await worker.StopAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60));
            await Task.WhenAll(worker.StopAsync(CancellationToken.None), worker.StopAsync(CancellationToken.None)).WaitAsync(TimeSpan.FromSeconds(60));
            await worker.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(60));
            await worker.StopAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60));
            await q.DisposeAsync();
        });
        Assert.True(failure is null, $"Stopping the worker again failed: {failure}");
    }

    /// <summary>
    /// SIGTERM to a real worker process run in a Generic Host whose shutdown timeout (300 ms) is shorter than the worker's
    /// (10 s), while three handlers that honour their token run: the process exits with 0 and every job is pending again,
    /// its attempt not counted, as soon as the process is gone (no lease has to expire: the lease is 10 minutes).
    /// </summary>
    [Fact]
    public async Task Sigterm_to_a_hosted_worker_process_puts_its_running_jobs_back_before_it_exits()
    {
        await using var setup = await TestQueue.CreateAsync(fixture, _ => { });
        var table = await ProcessTests.CreateRunsTableAsync(setup.DataSource);
        var ids = new List<JobId>();
        for (var i = 0; i < 3; i++)
        {
            ids.Add(await setup.Queue.PushAsync(new RecordJob(i), new JobOptions { MaxAttempts = 1 }));
        }

        using var worker = await WorkerProcess.StartAsync(fixture.ConnectionString, setup.Queue.QueueName, table, concurrency: 3, leaseSeconds: 600,
            workMs: 600_000, hostShutdownTimeout: TimeSpan.FromMilliseconds(300));
        await TestExtensions.EventuallyAsync(async () => (await setup.Queue.GetCountsAsync()).Processing == 3, 60, "three jobs run");
        // Their handlers run (the claim recorded their start); give them no chance to finish: the work takes 10 minutes.
        worker.Terminate();
        await worker.WaitForExitAsync();

        Assert.True(worker.ExitCode == 0, $"The worker exited with {worker.ExitCode}: {worker.StandardError}");
        foreach (var id in ids)
        {
            var job = (await setup.Queue.GetJobAsync(id))!;
            Assert.True(job.State == JobState.Pending && job.Attempts == 0,
                $"After SIGTERM job {id} is {job.State} with {job.Attempts} attempt(s) (error: {job.LastError}).");
        }
    }

    /// <summary>
    /// SIGTERM to a hosted worker process whose handler ignores its token (it blocks in synchronous I/O): README
    /// "Workers" says the job keeps its lease until the process exits and is then rescued when the lease expires. The
    /// process itself must exit cleanly (code 0), not crash on its way out.
    /// </summary>
    [Fact]
    public async Task Sigterm_to_a_hosted_worker_process_whose_handler_ignores_its_token_exits_cleanly()
    {
        await using var setup = await TestQueue.CreateAsync(fixture, _ => { });
        var table = await ProcessTests.CreateRunsTableAsync(setup.DataSource);
        // The handler (workMs -1) blocks until it gets a shared advisory lock on hashtext(table), which this session holds.
        await using var holder = await setup.DataSource.OpenConnectionAsync();
        await using (var take = new Npgsql.NpgsqlCommand($"SELECT pg_advisory_lock(hashtext('{table}'))", holder))
        {
            await take.ExecuteNonQueryAsync();
        }

        var id = await setup.Queue.PushAsync(new RecordJob(1));
        using var worker = await WorkerProcess.StartAsync(fixture.ConnectionString, setup.Queue.QueueName, table, concurrency: 1, leaseSeconds: 600,
            workMs: -1, hostShutdownTimeout: TimeSpan.FromMilliseconds(300));
        await TestExtensions.EventuallyAsync(async () => await setup.DataSource.ScalarAsync($"SELECT count(*) FROM jobs_test.{table}") == 1, 60,
            "the handler blocks");
        worker.Terminate();
        await worker.WaitForExitAsync();

        Assert.True(worker.ExitCode == 0, $"The worker exited with {worker.ExitCode}: {worker.StandardError}");
        var job = (await setup.Queue.GetJobAsync(id))!;
        Assert.True(job.State == JobState.Processing && job.Attempts == 1, $"The job is {job.State} with {job.Attempts} attempt(s).");
    }

    /// <summary>
    /// An idle worker stopped with no time to drain (the host's <see cref="HostOptions.ShutdownTimeout"/> already passed, or
    /// <see cref="JobWorkerOptions.ShutdownTimeout"/> zero) interrupts nothing, so it logs no shutdown-timeout warning
    /// (event 1009 said "0 running jobs are cancelled" on every such stop, a warning operators alert on).
    /// </summary>
    [Theory]
    [InlineData("host")]
    [InlineData("worker")]
    public async Task An_idle_worker_stopped_without_time_to_drain_logs_no_shutdown_timeout_warning(string zeroTimeout)
    {
        var log = new LevelLog();
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.AddProvider(log);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = zeroTimeout == "host" ? TimeSpan.Zero : TimeSpan.FromSeconds(30));
        builder.Services.AddJobs(jobs => jobs
            .UsePostgres(fixture.ConnectionString, o =>
            {
                o.Schema = "jobs_test";
                o.QueueName = "idlestop_" + Guid.NewGuid().ToString("N")[..8];
            })
            .AddJob<ValueJob>((_, _, _) => Task.CompletedTask)
            .AddWorkers(o => o.ShutdownTimeout = zeroTimeout == "worker" ? TimeSpan.Zero : TimeSpan.FromSeconds(30)));
        using var host = builder.Build();
        await host.StartAsync().WaitAsync(TimeSpan.FromSeconds(60));
        var worker = host.Services.GetRequiredService<JobWorker>();
        await TestExtensions.EventuallyAsync(() => Task.FromResult(worker.Claims > 0), 60, "the worker claims");

        await host.StopAsync().WaitAsync(TimeSpan.FromSeconds(60));

        var warnings = log.Warnings.Select(w => w.Entry).Concat(log.Errors).Where(e => e.StartsWith("Jobs.Sdk", StringComparison.Ordinal)).ToArray();
        Assert.True(warnings.Length == 0, $"An idle worker's stop logged: {string.Join(Environment.NewLine, warnings)}");
    }
}
