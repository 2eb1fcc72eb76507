using System.Text.Json;
using Jobs.Sdk.Dashboard.Live;
using Jobs.Sdk.Postgres;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Jobs.Sdk.Dashboard.Tests;

[Job("test-flaky", MaxAttempts = 1)]
public partial record FlakyJob(int Value);

public sealed class FlakyJobHandler : IJobHandler<FlakyJob>
{
    public Task HandleAsync(FlakyJob job, JobContext context, CancellationToken cancellationToken)
        => job.Value < 0 ? throw new InvalidOperationException("flaky " + job.Value) : Task.CompletedTask;
}

/// <summary>
/// The overview's throughput chart on real PostgreSQL with the default retention (completed jobs deleted at once): the
/// chart still shows every completion and failure, because the workers count them and report them with their heartbeat.
/// Shares the browser tests' throwaway PostgreSQL (its own schema); no browser.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class ThroughputChartTests(BrowserFixture fixture)
{
    [Fact]
    public async Task The_chart_counts_completed_jobs_that_retention_already_deleted()
    {
        var schema = "tp_" + Guid.NewGuid().ToString("N")[..8];
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseTestServer();
        builder.Logging.ClearProviders();
        builder.Services.AddJobs(jobs => jobs
            .UsePostgres(fixture.PostgresConnectionString, o =>
            {
                o.Schema = schema;
                o.QueueName = "charts";
                o.PollInterval = TimeSpan.FromMilliseconds(200);
            })
            .AddJob<FlakyJob, FlakyJobHandler>()
            .AddWorkers(o => o.LeaseDuration = TimeSpan.FromSeconds(3)));
        builder.Services.AddJobsDashboard(o => o.ThroughputInterval = TimeSpan.FromMilliseconds(1));
        await using var app = builder.Build();
        app.MapJobsDashboard("/jobs");
        await app.StartAsync();
        var queue = app.Services.GetRequiredService<JobQueue>();
        var admin = app.Services.GetRequiredService<JobAdmin>();
        var snapshots = app.Services.GetRequiredService<DashboardSnapshotSource>();

        await queue.PushManyAsync([new FlakyJob(1), new FlakyJob(2), new FlakyJob(3), new FlakyJob(4), new FlakyJob(-1), new FlakyJob(-2)]);
        await Eventually.Async(async () => (await queue.GetCountsAsync()) is { Failed: 2, Pending: 0, Processing: 0, Retrying: 0 },
            "the jobs to finish");
        // Retention deleted the completed jobs: a chart computed from job rows would show no completion at all.
        Assert.Empty((await admin.ListJobsAsync(new JobQuery { States = [JobState.Completed] })).Items);

        var sequence = 0L;
        JsonElement minutes = default;
        await Eventually.Async(async () =>
        {
            using var snapshot = JsonDocument.Parse(await snapshots.ReadAsync(++sequence, CancellationToken.None));
            minutes = snapshot.RootElement.GetProperty("throughput").GetProperty("minutes").Clone();
            return Sum(minutes, "completed") == 4 && Sum(minutes, "failed") == 2;
        }, "the chart to show 4 completed and 2 failed", seconds: 30);
        Assert.Equal(60, minutes.GetArrayLength());

        await app.StopAsync();
        await using var dataSource = PostgresJobsBuilderExtensions.CreateDataSource(fixture.PostgresConnectionString);
        await using var drop = dataSource.CreateCommand($"DROP SCHEMA \"{schema}\" CASCADE");
        await drop.ExecuteNonQueryAsync();
    }

    private static int Sum(JsonElement minutes, string property) => minutes.EnumerateArray().Sum(m => m.GetProperty(property).GetInt32());
}
