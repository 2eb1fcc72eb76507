using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Npgsql;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary><c>AddJobsHealthCheck</c> in a host, against a real server that goes away and comes back.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresHealthCheckTests(PostgresFixture fixture)
{
    /// <summary>
    /// README "Health checks": healthy while the store answers and the worker runs; unhealthy when the database is out
    /// of reach (every connection cut and new ones refused); healthy again once it is back, with no restart.
    /// </summary>
    [Fact]
    public async Task Unhealthy_while_the_database_is_out_of_reach_and_healthy_again_when_it_returns()
    {
        var upstream = new NpgsqlConnectionStringBuilder(fixture.ConnectionString);
        await using var proxy = TcpProxy.Start(upstream.Host!, upstream.Port);
        var through = new NpgsqlConnectionStringBuilder(fixture.ConnectionString) { Host = "127.0.0.1", Port = proxy.Port, Timeout = 3 };
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddJobs(jobs => jobs
            .UsePostgres(through.ConnectionString, o =>
            {
                o.Schema = "jobs_test";
                o.QueueName = "health_" + Guid.NewGuid().ToString("N")[..8];
                o.PollInterval = TimeSpan.FromMilliseconds(100);
            })
            .AddJob<ValueJob>((_, _, _) => Task.CompletedTask)
            .AddWorkers(o => o.Concurrency = 1));
        builder.Services.AddHealthChecks().AddJobsHealthCheck(configure: o => o.Timeout = TimeSpan.FromSeconds(3));
        using var host = builder.Build();
        await host.StartAsync();
        try
        {
            var health = host.Services.GetRequiredService<HealthCheckService>();
            HealthReport? report = null;
            await TestExtensions.EventuallyAsync(async () => (report = await health.CheckHealthAsync()).Status == HealthStatus.Healthy, 60,
                "healthy at start");

            proxy.RefuseConnections();
            proxy.CutAll();
            await TestExtensions.EventuallyAsync(async () => (report = await health.CheckHealthAsync()).Status == HealthStatus.Unhealthy, 60,
                "unhealthy with the database out of reach");
            Assert.Contains("jobs", report!.Entries.Keys);

            proxy.AcceptConnections();
            await TestExtensions.EventuallyAsync(async () => (report = await health.CheckHealthAsync()).Status == HealthStatus.Healthy, 60,
                $"healthy again (last: {report?.Entries["jobs"].Description})");
        }
        finally
        {
            await host.StopAsync();
        }
    }

    [Fact]
    public async Task Unhealthy_when_the_worker_of_another_declared_queue_stopped()
    {
        // One AddWorkers serves every declared queue; a probe must not report healthy while one of them is dead.
        var other = "health_lane_" + Guid.NewGuid().ToString("N")[..8];
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddQueue(other, o => o.Concurrency = 1).AddJob<ValueJob>((_, _, _) => Task.CompletedTask));
        await q.StartAsync();
        var check = new JobsHealthCheck(q.Runtime, q.Worker);
        var lane = Assert.Single(q.Worker.Lanes);
        HealthCheckResult result = default;
        await TestExtensions.EventuallyAsync(async () => (result = await CheckAsync(check)).Status == HealthStatus.Healthy, 60,
            "healthy while the worker and its lane run");

        await lane.StopAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60));
        result = await CheckAsync(check);

        Assert.Equal(HealthStatus.Unhealthy, result.Status);
        Assert.Contains(other, result.Description, StringComparison.Ordinal);
    }

    private static Task<HealthCheckResult> CheckAsync(JobsHealthCheck check) => check.CheckHealthAsync(new HealthCheckContext
    {
        Registration = new HealthCheckRegistration("jobs", check, HealthStatus.Unhealthy, null),
    });
}
