using System.Collections.Concurrent;

namespace Jobs.Sdk.Tests;

/// <summary>Issue 16 on the in-memory driver: a queue pause reaches claimed jobs that wait in the prefetch buffer.</summary>
public sealed class QueuePauseWorkerTests
{
    [Fact]
    public async Task Pausing_the_queue_gives_back_claimed_jobs_that_have_not_started_and_resume_runs_them()
    {
        var started = new ConcurrentQueue<int>();
        var finish = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var host = await TestHost.Create(j => j
            .AddJob<ValueJob>(async (job, _, ct) =>
            {
                started.Enqueue(job.Value);
                await finish.Task.WaitAsync(ct);
            })
            .AddWorkers(o => { o.Concurrency = 1; o.Prefetch = 4; })).StartAsync();
        await host.Queue.PushManyAsync(Enumerable.Range(0, 5).Select(i => new ValueJob(i)));
        await WorkerTests.WaitUntil(async () => started.Count == 1 && (await host.Queue.GetCountsAsync()).Processing == 5);

        Assert.True(await host.Queue.PauseQueueAsync("default", reason: "test"));
        await WorkerTests.WaitUntil(async () => (await host.Queue.GetCountsAsync()).Processing == 1);
        Assert.Equal(4, (await host.Queue.GetCountsAsync()).Pending);

        finish.SetResult();
        await WorkerTests.WaitUntil(async () => (await host.Queue.GetCountsAsync()).Processing == 0);
        Assert.Single(started);
        Assert.Equal(4, (await host.Queue.GetCountsAsync()).Pending);

        Assert.True(await host.Queue.ResumeQueueAsync("default"));
        await WorkerTests.WaitUntil(() => started.Count == 5);
        Assert.Equal(Enumerable.Range(0, 5), started.Order());
    }
}
