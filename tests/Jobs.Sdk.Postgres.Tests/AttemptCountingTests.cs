using Npgsql;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// Attempts count when the handler starts, not at claim (issue 13, finding 5): a job its worker only prefetched, rescued
/// after that worker died, has not used an attempt; started_at is set when the handler starts.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class AttemptCountingTests(PostgresFixture fixture)
{
    [Fact]
    public async Task A_one_attempt_job_prefetched_by_a_worker_that_died_runs_on_another_worker()
    {
        var connection = new NpgsqlConnectionStringBuilder(fixture.ConnectionString);
        await using var proxy = TcpProxy.Start(connection.Host!, connection.Port);
        var queueName = "prefetch_" + Guid.NewGuid().ToString("N")[..8];
        var blockerStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var ranOnB = new Recorder<int>();
        var ranOnA = new Recorder<int>();

        // Worker A (through the proxy) runs one job at a time and prefetches one more; job 1 blocks it until its token fires.
        await using var a = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>(async (job, _, ct) =>
        {
            ranOnA.Add(job.Value);
            if (job.Value == 1)
            {
                blockerStarted.TrySetResult();
                await Task.Delay(Timeout.Infinite, ct);
            }
        }), queueName: queueName,
            driver: o => o.Retention = new RetentionPolicy { CompletedJobs = Retain.Yes, FailedJobs = Retain.Yes },
            worker: o =>
            {
                o.Concurrency = 1;
                o.Prefetch = 1;
                o.LeaseDuration = TimeSpan.FromSeconds(3);
                o.RescueInterval = TimeSpan.FromHours(1);
                o.ShutdownTimeout = TimeSpan.Zero;
            },
            dataSource: fixture.CreateDataSource(b =>
            {
                b.Host = "127.0.0.1";
                b.Port = proxy.Port;
            }));
        await using var b = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>((job, _, _) =>
        {
            ranOnB.Add(job.Value);
            return Task.CompletedTask;
        }), queueName: queueName,
            driver: o => o.Retention = new RetentionPolicy { CompletedJobs = Retain.Yes, FailedJobs = Retain.Yes },
            worker: o =>
            {
                o.Concurrency = 1;
                o.LeaseDuration = TimeSpan.FromSeconds(3);
                o.RescueInterval = TimeSpan.FromMilliseconds(200);
            });

        var blocker = await a.Queue.PushAsync(new ValueJob(1), new JobOptions { Priority = JobPriority.Highest });
        var once = await a.Queue.PushAsync(new ValueJob(2), new JobOptions { MaxAttempts = 1 });
        await a.StartAsync();
        await blockerStarted.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await TestExtensions.EventuallyAsync(async () => (await b.Queue.GetJobAsync(once))!.State == JobState.Processing, what: "job 2 prefetched by A");

        // Prefetched, not started: no start time, and the attempt it will run is its first.
        var prefetched = (await b.Queue.GetJobAsync(once))!;
        Assert.Null(prefetched.StartedAt);
        Assert.NotNull((await b.Queue.GetJobAsync(blocker))!.StartedAt);

        // A is cut off (as good as dead); B rescues both jobs once their leases expire.
        proxy.Stall();
        await b.StartAsync();
        await ranOnB.WaitForCountAsync(2, seconds: 60);
        await TestExtensions.EventuallyAsync(async () => (await b.Queue.GetCountsAsync()).Completed == 2, what: "both jobs completed on B");

        var info = (await b.Queue.GetJobAsync(once))!;
        Assert.Equal(JobState.Completed, info.State);
        Assert.Equal(1, info.Attempts);
        Assert.DoesNotContain(2, ranOnA.Items);
        var blocked = (await b.Queue.GetJobAsync(blocker))!;
        Assert.Equal((JobState.Completed, 2), (blocked.State, blocked.Attempts)); // its handler started on A: that attempt counts

        proxy.Resume();
        await b.StopAsync();
        await a.StopAsync();
    }
}
