using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// <see cref="PostgresJobDriver.RunningJobCancelled"/> is public: an app may observe cancel requests of running jobs. Its
/// handlers run on the thread pool when the cancel notification arrives; one that throws must not keep the handlers after
/// it, the worker's among them, from hearing the cancel (as for <see cref="PostgresJobDriver.QueuePaused"/>, event 2018).
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class RunningJobCancelledObserverTests(PostgresFixture fixture)
{
    [Fact]
    public async Task An_app_observer_of_running_job_cancels_that_throws_does_not_hide_the_cancel_from_the_worker()
    {
        var running = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var tokenCancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var log = new EventIdLog();
        await using var q = await TestQueue.CreateAsync(fixture, b =>
        {
            b.Services.AddLogging(l => l.AddProvider(log));
            b.AddJob<ValueJob>(async (_, _, ct) =>
            {
                using var registration = ct.Register(() => tokenCancelled.TrySetResult());
                running.TrySetResult();
                await Task.Delay(Timeout.Infinite, ct);
            });
        }, worker: o => o.LeaseDuration = TimeSpan.FromMinutes(10)); // renewals (every third of a lease) cannot tell the worker first
        q.Driver.RunningJobCancelled += static _ => throw new InvalidOperationException("The app's RunningJobCancelled observer threw.");
        await q.StartAsync(); // the worker subscribes after the app's observer
        var id = await q.Queue.PushAsync(new ValueJob(1));
        await running.Task.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.True(await q.Queue.CancelAsync(id));
                var heard = await Record.ExceptionAsync(() => tokenCancelled.Task.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.True(heard is null, "The running job's token was not cancelled within 10 s of its cancel: the worker, subscribed after an observer that throws, did not hear the notification.");
        await TestExtensions.EventuallyAsync(() => Task.FromResult(log.Ids.Contains(2013)), what: "the observer's failure is logged (event 2013)");
    }
}
