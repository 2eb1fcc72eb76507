using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

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
}
