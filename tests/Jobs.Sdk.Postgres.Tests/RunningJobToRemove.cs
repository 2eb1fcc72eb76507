using System.Runtime.CompilerServices;
using Jobs.Sdk.Drivers;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// The running jobs the removal tests remove (an operator's delete: <see cref="DeleteRunningJobTests"/>; a cleanup pass:
/// <see cref="CleanupRunningJobTests"/>), each started on a worker and running when the factory returns: one whose handler
/// waits on its token, or one holding a concurrency slot (its key's or its queue's) with a second job waiting behind it.
/// </summary>
internal static class RunningJobToRemove
{
    /// <summary>Keeps every finished job, so a row that should have been deleted would still be there.</summary>
    public static readonly RetentionPolicy KeepEverything = new() { CompletedJobs = Retain.Yes, FailedJobs = Retain.Yes, CancelledJobs = Retain.Yes };

    /// <summary>
    /// A job whose handler waits on its token and stops when it is cancelled. Its lease lasts an hour: no renewal within
    /// the test tells the worker anything, only the removal can cancel the token.
    /// </summary>
    public static async Task<WaitingOnItsToken> WaitingOnItsTokenAsync(PostgresFixture fixture, Action<PostgresJobDriverOptions>? driver = null,
        [CallerMemberName] string test = "")
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>(async (_, _, ct) =>
            {
                started.TrySetResult();
                try
                {
                    await Task.Delay(Timeout.Infinite, ct);
                }
                finally
                {
                    stopped.TrySetResult();
                }
            }),
            driver: driver,
            worker: o => o.LeaseDuration = TimeSpan.FromHours(1),
            test: test);
        try
        {
            var id = await q.Queue.PushAsync(new ValueJob(1));
            await q.StartAsync();
            await started.Task.WaitAsync(TimeSpan.FromSeconds(60));
            return new WaitingOnItsToken(q, id, stopped.Task);
        }
        catch
        {
            await q.DisposeAsync();
            throw;
        }
    }

    /// <summary>Job 1000 of key 1 (ConcurrencyLimit = 1) runs held; job 1001 of the same key waits behind it.</summary>
    public static async Task<HoldingASlot> HoldingItsKeySlotAsync(PostgresFixture fixture, [CallerMemberName] string test = "")
    {
        var first = new HeldHandler();
        var second = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<KeyedRecordJob>((job, _, ct) => HoldFirst(job.N == 1000, first, second, ct)),
            driver: o => o.Retention = KeepEverything, test: test);
        return await StartedAsync(q, first, async () =>
        {
            var running = await q.Queue.PushAsync(new KeyedRecordJob(1000)); // key 1, limit 1
            var waiting = await q.Queue.PushAsync(new KeyedRecordJob(1001)); // key 1, behind it
            await q.StartAsync();
            await first.Started.WaitAsync(TimeSpan.FromSeconds(60));
            return new HoldingASlot(q, first, running, waiting, second.Task,
                new JobClaimRequest("probe", 10, TimeSpan.FromMinutes(10)) { JobNames = [KeyedRecordJob.JobName] }, "ConcurrencyLimit = 1 of its key");
        });
    }

    /// <summary>Job 1 runs held in a queue of <c>GlobalConcurrency = 1</c> (named <paramref name="queuePrefix"/> and a suffix); job 2, pushed once it runs, waits.</summary>
    public static async Task<HoldingASlot> HoldingItsQueueSlotAsync(PostgresFixture fixture, string queuePrefix)
    {
        var first = new HeldHandler();
        var second = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        var queueName = queuePrefix + Guid.NewGuid().ToString("N")[..8];
        var q = await TestQueue.CreateAsync(fixture, b => b
                .AddQueue(queueName, o => o.GlobalConcurrency = 1)
                .AddJob<ValueJob>((job, _, ct) => HoldFirst(job.Value == 1, first, second, ct)),
            driver: o => o.Retention = KeepEverything, queueName: queueName);
        return await StartedAsync(q, first, async () =>
        {
            var running = await q.Queue.PushAsync(new ValueJob(1));
            await q.StartAsync();
            await first.Started.WaitAsync(TimeSpan.FromSeconds(60));
            var waiting = await q.Queue.PushAsync(new ValueJob(2));
            return new HoldingASlot(q, first, running, waiting, second.Task,
                new JobClaimRequest("probe", 10, TimeSpan.FromMinutes(10)) { GlobalConcurrency = 1 }, "GlobalConcurrency = 1 of its queue");
        });
    }

    /// <summary>The handler of both slot arrangements: the first job is held; the second notes whether the first had returned.</summary>
    private static async Task HoldFirst(bool isFirst, HeldHandler first, TaskCompletionSource<bool> second, CancellationToken ct)
    {
        if (isFirst)
        {
            await first.RunAsync(ct);
        }
        else
        {
            second.TrySetResult(first.Returned);
        }
    }

    /// <summary>Runs <paramref name="start"/>; when it fails, releases the held handler and disposes the queue before rethrowing.</summary>
    private static async Task<HoldingASlot> StartedAsync(TestQueue q, HeldHandler first, Func<Task<HoldingASlot>> start)
    {
        try
        {
            return await start();
        }
        catch
        {
            first.Release();
            await q.DisposeAsync();
            throw;
        }
    }
}

/// <summary>A running job whose handler waits on its token; <see cref="Stopped"/> completes when that handler ended.</summary>
internal sealed record WaitingOnItsToken(TestQueue Queue, JobId Running, Task Stopped) : IAsyncDisposable
{
    public ValueTask DisposeAsync() => Queue.DisposeAsync();
}

/// <summary>
/// A running job held by <see cref="First"/> (it ignores its token) in the one slot its limit (<see cref="Limit"/>) allows,
/// and <see cref="Waiting"/> behind it; <see cref="SecondStarted"/> yields whether the first handler had returned when the
/// waiting job's handler started. <see cref="Probe"/> is a claim as any worker's next claim would be. Disposing releases
/// the held handler, then the queue.
/// </summary>
internal sealed record HoldingASlot(TestQueue Queue, HeldHandler First, JobId Running, JobId Waiting, Task<bool> SecondStarted,
    JobClaimRequest Probe, string Limit) : IAsyncDisposable
{
    public ValueTask DisposeAsync()
    {
        First.Release();
        return Queue.DisposeAsync();
    }
}
