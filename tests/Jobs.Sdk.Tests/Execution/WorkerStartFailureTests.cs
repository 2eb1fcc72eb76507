using Jobs.Sdk.Tests.Observability;
using Microsoft.Extensions.Time.Testing;

namespace Jobs.Sdk.Tests.Execution;

/// <summary>
/// A worker whose store never becomes usable (an incompatible schema) logs it and ends its <see cref="JobWorker.Completion"/>
/// with the error; an app need not await <c>Completion</c>, and no task of the worker may fault unobserved (an app reporting
/// <see cref="TaskScheduler.UnobservedTaskException"/>, as error trackers do, would see the error again at a random GC). The
/// store's answer is held until the stop waits for the claim loop, or has given up on it: the interleavings a real store
/// leaves to chance (RollingDeployMigrationTests' host on an incompatible schema).
/// </summary>
public sealed class WorkerStartFailureTests
{
    [Theory]
    [InlineData(false)] // the stop waits for the claim loop when the failure comes
    [InlineData(true)]  // the stop's token had fired: it gave up on the claim loop after its grace, before the failure came
    public async Task A_worker_whose_start_fails_after_its_stop_began_leaves_no_unobserved_task_exception(bool stopCutShort)
    {
        using var unobserved = new UnobservedTaskFaults();
        await RunWorkerAsync(unobserved.Marker, stopCutShort);
        await unobserved.AssertNoneReportedAsync();
    }

    /// <summary>Starts, stops and disposes the worker; nothing of it stays reachable after it returns (a task the worker
    /// still references is never reported, however it ended).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static async Task RunWorkerAsync(string marker, bool stopCutShort)
    {
        var waiting = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var held = new TaskCompletionSource(); // continuations inline: failing it ends the held wait before it returns
        var time = new FakeTimeProvider(); // the stop's grace for the claim loop passes when the test says so
        await using var host = await ObsHost.Create(Obs.NewQueueName("start-fails"), j => j
            .AddJob<ObsJob>((job, ctx, ct) => Task.CompletedTask)
            .AddWorkers(),
            driver: d => d.OnWaitUntilReady = async _ =>
            {
                waiting.TrySetResult();
                await held.Task.ConfigureAwait(false); // ignores its token, as a schema check in flight does
            }, time: time).StartAsync();
        await waiting.Task.WaitAsync(Obs.Timeout);

        var stop = host.Worker.StopAsync(new CancellationToken(stopCutShort));
        if (stopCutShort)
        {
            // The grace passes: its timer fires in Advance, and the stop gave up waiting (nothing of its wait stays attached
            // to the loop) before Advance returns.
            await WorkerTests.WaitUntil(() =>
            {
                time.Advance(TimeSpan.FromSeconds(2));
                return stop.IsCompleted;
            });
        }
        else
        {
            Assert.False(stop.IsCompleted, "the stop waits for the claim loop");
        }

        held.SetException(new JobQueueUnavailableException($"The job queue is unavailable: incompatible schema ({marker})"));
        await stop.WaitAsync(Obs.Timeout);
        Assert.True(host.Worker.Completion.IsCompleted); // not awaited: that would observe it, and an app need not
    }
}
