using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// <see cref="JobWorkerOptions.WorkerId"/> is stored with every claim, presence report and throughput row (the last two in
/// primary keys): one no store can hold is refused when the host is built, not met by a worker that never claims.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class WorkerIdTests(PostgresFixture fixture)
{
    [Theory]
    [InlineData("NUL")]
    [InlineData("low surrogate alone")]
    [InlineData("3,200 bytes")]
    public async Task A_worker_id_no_store_can_hold_is_refused_when_the_host_is_built(string kind)
    {
        // Named, not passed: xUnit turns an unpaired surrogate in theory data into U+FFFD.
        var workerId = kind switch
        {
            "NUL" => "worker\0a",
            "low surrogate alone" => "\uDE00worker",
            _ => RandomText.Of(3_200),
        };
        await using var dataSource = fixture.CreateDataSource();

        // Before, a worker with a NUL in its id started and never claimed: its job stayed pending.
        var error = await Assert.ThrowsAsync<ArgumentException>(async () =>
        {
            var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>((_, _, _) => Task.CompletedTask), worker: o => o.WorkerId = workerId,
                dataSource: dataSource);
            await q.StartAsync();
        });
        Assert.Equal("WorkerId", error.ParamName);
    }

    [Fact]
    public async Task The_longest_worker_id_on_the_queue_with_the_longest_name_runs_jobs_and_reports_its_presence_and_throughput()
    {
        var workerId = RandomText.Of(1_000);
        var queueName = RandomText.Of(1_000);
        await using var dataSource = fixture.CreateDataSource();
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddJobs(jobs => jobs
            .UsePostgres(dataSource, o =>
            {
                o.Schema = "jobs_test";
                o.QueueName = queueName;
                o.PollInterval = TimeSpan.FromMilliseconds(100);
            })
            .AddJob<ValueJob>((_, _, _) => Task.CompletedTask)
            .AddWorkers(o => o.WorkerId = workerId));
        using var host = builder.Build();
        await host.StartAsync().WaitAsync(TimeSpan.FromSeconds(60));
        var admin = host.Services.GetRequiredService<JobAdmin>();
        var queue = host.Services.GetRequiredService<JobQueue>();

        var id = await queue.PushAsync(new ValueJob(1));
        await TestExtensions.EventuallyAsync(async () => (await queue.GetJobAsync(id)) is null or { State: JobState.Completed }, 60, "the job completes");
        await TestExtensions.EventuallyAsync(async () => (await admin.GetWorkersAsync()).Any(w => w.WorkerId == workerId), 60, "the worker is listed");
        await host.StopAsync().WaitAsync(TimeSpan.FromSeconds(60));

        // The stop's final report counts the finished job under the worker (a primary key of minute, queue and worker id).
        var minutes = await admin.GetThroughputAsync(DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddMinutes(5));
        Assert.Equal(1, minutes.Where(m => m.QueueName == queueName).Sum(m => m.Completed));
    }
}
