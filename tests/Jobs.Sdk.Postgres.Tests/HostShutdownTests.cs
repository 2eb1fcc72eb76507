using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
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

        var logs = new EventLog();
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

    private sealed class EventLog : ILoggerProvider
    {
        public ConcurrentBag<int> Ids { get; } = [];

        public ILogger CreateLogger(string categoryName) => new Logger(this);

        public void Dispose()
        {
        }

        private sealed class Logger(EventLog owner) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
                => owner.Ids.Add(eventId.Id);
        }
    }
}
