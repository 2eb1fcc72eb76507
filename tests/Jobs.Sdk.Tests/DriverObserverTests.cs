using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Jobs.Sdk.Tests;

/// <summary>
/// The in-memory driver's public events (<see cref="InMemory.InMemoryJobDriver.QueuePaused"/>,
/// <see cref="InMemory.InMemoryJobDriver.RunningJobCancelled"/>) may have an app's observers besides the worker's. One that
/// throws must neither end the process (an exception on a thread-pool work item does), nor fail the caller's pause or
/// cancel, nor keep the handlers after it, the worker's among them, from hearing of it: as on PostgreSQL (event 2018).
/// </summary>
public sealed class DriverObserverTests
{
    [Fact]
    public async Task An_app_observer_of_queue_pauses_that_throws_neither_ends_the_process_nor_hides_the_pause_from_the_worker()
    {
        var started = new ConcurrentQueue<int>();
        var finish = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var log = new CapturingLoggerProvider();
        await using var host = TestHost.Create(j => j
            .AddJob<ValueJob>(async (job, _, ct) =>
            {
                started.Enqueue(job.Value);
                await finish.Task.WaitAsync(ct);
            })
            .AddWorkers(o => { o.Concurrency = 1; o.Prefetch = 4; }), services: s => s.AddLogging(b => b.AddProvider(log)));
        host.Driver.Driver.QueuePaused += static () => throw new InvalidOperationException("The app's QueuePaused observer threw.");
        await host.StartAsync(); // the worker subscribes after the app's observer
        var heard = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        host.Driver.Driver.QueuePaused += () => heard.TrySetResult();
        await host.Queue.PushManyAsync(Enumerable.Range(0, 5).Select(i => new ValueJob(i)));
        await WorkerTests.WaitUntil(async () => started.Count == 1 && (await host.Queue.GetCountsAsync()).Processing == 5);

        Assert.True(await host.Queue.PauseQueueAsync("default", reason: "observer test"));
        var pause = await Record.ExceptionAsync(() => heard.Task.WaitAsync(TestHost.Timeout));
        Assert.True(pause is null, "The observer subscribed after one that throws did not hear the queue's pause.");
        // The worker heard it too: it gave back the 4 jobs it had claimed but not started.
        await WorkerTests.WaitUntil(async () => (await host.Queue.GetCountsAsync()).Pending == 4);
        finish.SetResult();
        Assert.True(await host.Queue.ResumeQueueAsync("default"));
        await WorkerTests.WaitUntil(() => started.Count == 5);
        Assert.Contains(log.Entries, e => e.EventId.Id == 1022 && e.Level == LogLevel.Warning);
    }

    [Fact]
    public async Task An_app_observer_of_running_job_cancels_that_throws_neither_fails_the_cancel_nor_hides_it_from_the_worker()
    {
        var running = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var tokenCancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var log = new CapturingLoggerProvider();
        await using var host = TestHost.Create(j => j
            .AddJob<ValueJob>(async (_, _, ct) =>
            {
                using var registration = ct.Register(() => tokenCancelled.TrySetResult());
                running.TrySetResult();
                await Task.Delay(Timeout.Infinite, ct);
            })
            .AddWorkers(o => o.Concurrency = 1), services: s => s.AddLogging(b => b.AddProvider(log)));
        host.Driver.Driver.RunningJobCancelled += static _ => throw new InvalidOperationException("The app's RunningJobCancelled observer threw.");
        await host.StartAsync(); // the worker subscribes after the app's observer
        var id = await host.Queue.PushAsync(new ValueJob(1));
        await running.Task.WaitAsync(TestHost.Timeout);

        var cancel = await Record.ExceptionAsync(() => host.Queue.CancelAsync(id));
        Assert.True(cancel is null, $"Cancelling a running job threw the app's observer's exception to the caller: {cancel}");
        // The worker heard the cancel: the running handler's token was cancelled.
        var heard = await Record.ExceptionAsync(() => tokenCancelled.Task.WaitAsync(TestHost.Timeout));
        Assert.True(heard is null, "The running job's token was not cancelled: the worker, subscribed after an observer that throws, did not hear the cancel.");
        Assert.Contains(log.Entries, e => e.EventId.Id == 1023 && e.Level == LogLevel.Warning);
    }
}
