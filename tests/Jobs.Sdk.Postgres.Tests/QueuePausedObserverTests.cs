using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// <see cref="PostgresJobDriver.QueuePaused"/> is public: an app may observe queue pauses (to alert, say). Its handlers run
/// on the thread pool when the pause notification arrives; one that throws must neither take the process down (an exception
/// on a thread-pool work item ends it) nor keep the other handlers, the worker's among them, from hearing the pause.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class QueuePausedObserverTests(PostgresFixture fixture)
{
    [Fact]
    public async Task An_app_observer_of_queue_pauses_that_throws_neither_ends_the_process_nor_hides_the_pause_from_the_others()
    {
        var ran = new Recorder<int>();
        var log = new EventIdLog();
        await using var q = await TestQueue.CreateAsync(fixture, b =>
        {
            b.Services.AddLogging(l => l.AddProvider(log));
            b.AddJob<ValueJob>((job, _, _) =>
            {
                ran.Add(job.Value);
                return Task.CompletedTask;
            });
        });
        q.Driver.QueuePaused += static () => throw new InvalidOperationException("The app's QueuePaused observer threw.");
        var heard = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await q.StartAsync(); // the worker subscribes after the app's observer
        q.Driver.QueuePaused += () => heard.TrySetResult();
        await q.Queue.PushAsync(new ValueJob(1));
        await ran.WaitForCountAsync(1);

        Assert.True(await q.Queue.PauseQueueAsync(q.Queue.QueueName, "resilience test"));
        var pause = await Record.ExceptionAsync(() => heard.Task.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.True(pause is null, "The observer subscribed after one that throws did not hear the queue's pause within 30 s.");
        Assert.True(await q.Queue.ResumeQueueAsync(q.Queue.QueueName));
        await q.Queue.PushAsync(new ValueJob(2));
        await ran.WaitForCountAsync(2);
        await TestExtensions.EventuallyAsync(() => Task.FromResult(log.Ids.Contains(2018)), what: "the observer's failure is logged (event 2018)");
    }
}
