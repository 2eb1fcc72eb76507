using System.Collections.Concurrent;
using Jobs.Sdk.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// A hosted app's schedule when the database is out of reach (a network partition: the bytes are held, the connections
/// stay open) and the app is told to stop, as Kubernetes or systemd tell it with SIGTERM: the host's stop, bounded by
/// <c>HostOptions.ShutdownTimeout</c>, and its disposal must end although the scheduler's store calls never get an answer.
/// Found by the schedule chaos test's SIGTERM probe: a hosted worker process with a schedule took 46 s to exit after
/// SIGTERM with a 2 s shutdown timeout (until its stuck pushes hit Npgsql's 30 s command timeout).
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class ScheduleShutdownTests(PostgresFixture fixture, Xunit.Abstractions.ITestOutputHelper output)
{
    [Fact]
    public async Task A_hosted_schedule_cut_off_from_the_database_stops_and_disposes_within_the_hosts_shutdown_timeout()
    {
        await using var proxy = TcpProxy.Start("127.0.0.1", new NpgsqlConnectionStringBuilder(fixture.ConnectionString).Port);
        // No command timeout: a store call on a partitioned connection waits for as long as the partition lasts.
        var through = new NpgsqlConnectionStringBuilder(fixture.ConnectionString) { Port = proxy.Port, Timeout = 5, CommandTimeout = 0 }.ConnectionString;
        await using var dataSource = PostgresJobsBuilderExtensions.CreateDataSource(through);
        var queue = "schedstop_" + Guid.NewGuid().ToString("N")[..8];
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(2));
        builder.Services.AddJobs(jobs => jobs
            .UsePostgres(dataSource, o =>
            {
                o.Schema = "jobs_test";
                o.QueueName = queue;
            })
            .AddJob<TickJob>((_, _, _) => Task.CompletedTask)
            .AddSchedule(s =>
            {
                for (var second = 0; second < 60; second++)
                {
                    s.Add(new TickJob(second), Schedule.EveryMinute(second), key: $"tick-{second:00}");
                }
            }));
        var host = builder.Build();
        var scheduler = host.Services.GetRequiredService<JobScheduler>();
        // Each entry's next fire (while it waits for it or pushes it), until the fire is handled.
        var pending = new ConcurrentDictionary<string, DateTimeOffset>();
        var handled = 0;
        scheduler.Waiting += (key, fire, _) => pending[key] = fire;
        scheduler.FireHandled += (key, fire, _) =>
        {
            pending.TryRemove(KeyValuePair.Create(key, fire));
            Interlocked.Increment(ref handled);
        };
        try
        {
            await host.StartAsync();
            await TestExtensions.EventuallyAsync(() => Task.FromResult(Volatile.Read(ref handled) >= 2), 60, "two fires pushed");
            proxy.Stall();
            // Three entries push into the partition (their fire time passed a second ago, their push has no answer).
            await TestExtensions.EventuallyAsync(
                () => Task.FromResult(pending.Count(p => p.Value < DateTimeOffset.UtcNow.AddSeconds(-1)) >= 3), 60, "three pushes stuck in the partition");

            output.WriteLine($"stuck: {pending.Count(p => p.Value < DateTimeOffset.UtcNow.AddSeconds(-1))}");
            var watch = System.Diagnostics.Stopwatch.StartNew();
            // Bounds five times what the host allows (2 s), and for the disposal five times the scheduler's 5 s (the whole
            // disposal takes about 10 s here), so a loaded machine passes; before the fix each stuck push held the stop for
            // about ten seconds (its Npgsql cancellation, run by the stop).
            var stop = await Record.ExceptionAsync(() => host.StopAsync().WaitAsync(TimeSpan.FromSeconds(10)));
            output.WriteLine($"stop {watch.Elapsed}");
            Assert.True(stop is null, $"host.StopAsync (shutdown timeout 2 s) did not end within 10 s: {stop}");
            watch.Restart();
            var dispose = await Record.ExceptionAsync(() => ((IAsyncDisposable)host).DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(25)));
            output.WriteLine($"dispose {watch.Elapsed}");
            Assert.True(dispose is null, $"Disposing the host did not end within 25 s: {dispose}");
        }
        finally
        {
            proxy.Resume();
        }
    }
}
