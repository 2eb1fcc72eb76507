using Jobs.Sdk.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// A hosted worker cut off from the database (a network partition: the bytes are held, the connections stay open) told to
/// stop, as Kubernetes or systemd tell it with SIGTERM: README "Workers" promises the stop then waits at most about 2 s for
/// the handlers and 2 s for their outcomes past the host's <c>HostOptions.ShutdownTimeout</c>, so the process exits within
/// its grace period. Found by the schedule chaos work's SIGTERM probe: such a host took about 12 s with a 2 s shutdown
/// timeout, the stop waiting for the cancel requests of its stuck store calls and its handler's (each runs in a token callback).
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class WorkerPartitionShutdownTests(PostgresFixture fixture)
{
    [Fact]
    public async Task A_hosted_worker_cut_off_from_the_database_stops_within_the_hosts_shutdown_timeout_and_its_bounds()
    {
        await using var proxy = TcpProxy.Start("127.0.0.1", new NpgsqlConnectionStringBuilder(fixture.ConnectionString).Port);
        // No command timeout: a store call on a partitioned connection waits for as long as the partition lasts; and a cancel
        // request (a new connection, into the partition) waits for the connection timeout, 60 s, so a stop that waits for
        // one is plain to see against the bound below.
        var through = new NpgsqlConnectionStringBuilder(fixture.ConnectionString) { Port = proxy.Port, Timeout = 60, CommandTimeout = 0 }.ConnectionString;
        await using var dataSource = PostgresJobsBuilderExtensions.CreateDataSource(through);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(2));
        builder.Services.AddJobs(jobs => jobs
            .UsePostgres(dataSource, o =>
            {
                o.Schema = "jobs_test";
                o.QueueName = "workerstop_" + Guid.NewGuid().ToString("N")[..8];
                o.PollInterval = TimeSpan.FromMilliseconds(100);
            })
            .AddJob<ValueJob>(async (_, _, ct) =>
            {
                started.TrySetResult();
                await Task.Delay(Timeout.Infinite, ct);
            })
            .AddWorkers(o =>
            {
                o.Concurrency = 2; // a free slot: the claim loop keeps claiming, into the partition
                o.ShutdownTimeout = TimeSpan.FromMinutes(5);
            }));
        var host = builder.Build();
        try
        {
            await host.StartAsync();
            await host.Services.GetRequiredService<JobQueue>().PushAsync(new ValueJob(1));
            await started.Task.WaitAsync(TimeSpan.FromSeconds(60));
            proxy.Stall();

            // What README allows past the host's 2 s: the presence service's final report (2 s), the worker's handlers (2 s)
            // and their outcomes (2 s); about 8 s here. Before the fix the stop waited for the cancel requests of the stuck
            // calls: more than 30 s (each up to the 60 s connection timeout).
            var stop = await Record.ExceptionAsync(() => host.StopAsync().WaitAsync(TimeSpan.FromSeconds(20)));
            Assert.True(stop is null, $"host.StopAsync (shutdown timeout 2 s) did not end within 20 s: {stop}");
            var dispose = await Record.ExceptionAsync(() => ((IAsyncDisposable)host).DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(25)));
            Assert.True(dispose is null, $"Disposing the host did not end within 25 s: {dispose}");
        }
        finally
        {
            proxy.Resume();
        }
    }
}
