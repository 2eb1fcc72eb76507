using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// A connection string with Npgsql's <c>Multiplexing=true</c> (set for a web app's throughput, and the jobs given the same
/// string): the driver needs connections of its own (the LISTEN connection, the held claim connection, prepared
/// statements, the pooler probe's server process id), which multiplexing does not give. Before, the start failed with
/// "No bound physical connection (using multiplexing)", naming neither the option nor a fix.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class MultiplexingDataSourceTests(PostgresFixture fixture)
{
    [Fact]
    public async Task A_host_on_a_multiplexing_connection_string_fails_at_start_naming_the_option_and_the_fix()
    {
        var connectionString = new NpgsqlConnectionStringBuilder(fixture.ConnectionString) { Multiplexing = true }.ConnectionString;
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddJobs(jobs => jobs
            .UsePostgres(connectionString, o =>
            {
                o.Schema = "jobs_test";
                o.QueueName = "multiplexing_" + Guid.NewGuid().ToString("N")[..8];
            })
            .AddJob<ValueJob>((_, _, _) => Task.CompletedTask)
            .AddWorkers());
        using var host = builder.Build();

        var start = await Record.ExceptionAsync(() => host.StartAsync().WaitAsync(TimeSpan.FromSeconds(60)));

        var error = Assert.IsType<JobQueueUnavailableException>(start);
        Assert.Contains("Multiplexing=true", error.Message, StringComparison.Ordinal);
        Assert.Contains("without Multiplexing", error.Message, StringComparison.Ordinal);
        await host.StopAsync().WaitAsync(TimeSpan.FromSeconds(60));
    }
}
