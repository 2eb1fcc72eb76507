namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// An observer (<see cref="IJobMiddleware.OnCompletedAsync"/>, or <see cref="IJobMiddleware.OnPushAsync"/> for a retry) runs
/// after its job's outcome is written. One that never returns for one job (a webhook call without a timeout) must not
/// stop the worker from recording the outcomes of its other jobs.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class HangingObserverTests(PostgresFixture fixture)
{
    [Fact]
    public async Task An_observer_that_never_returns_for_one_job_does_not_stop_the_other_jobs_outcomes()
    {
        var hang = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var hanging = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var q = await TestQueue.CreateAsync(fixture, b => b
            .AddJob<ValueJob>((_, _, _) => Task.CompletedTask)
            .AddMiddleware(new HangingObserver(hang.Task, hanging)),
            driver: o => o.Retention = new RetentionPolicy { CompletedJobs = Retain.Yes },
            worker: o => o.ShutdownTimeout = TimeSpan.Zero);
        await q.StartAsync();
        var first = await q.Queue.PushAsync(new ValueJob(1));
        await hanging.Task.WaitAsync(TimeSpan.FromSeconds(30));

        var others = new List<JobId>();
        for (var i = 2; i <= 5; i++)
        {
            others.Add(await q.Queue.PushAsync(new ValueJob(i)));
        }

        try
        {
            await TestExtensions.EventuallyAsync(async () =>
            {
                foreach (var id in others)
                {
                    if ((await q.Queue.GetJobAsync(id))?.State != JobState.Completed)
                    {
                        return false;
                    }
                }

                return true;
            }, seconds: 20, what: "the other jobs' outcomes are recorded while one job's completion observer hangs");
            Assert.Equal(JobState.Completed, (await q.Queue.GetJobAsync(first))!.State);
        }
        finally
        {
            hang.TrySetResult();
        }
    }

    /// <summary>
    /// A worker stopped by the app (<c>StopAsync(CancellationToken.None)</c>, or its disposal: a console app's provider
    /// disposed at exit) while a completion observer never returns: the stop must still end within its bounds
    /// (<see cref="JobWorkerOptions.ShutdownTimeout"/>, then 2 s), not wait for the observer for ever (the process never
    /// exited), and the observer's token is cancelled when the stop stops waiting for it.
    /// </summary>
    [Fact]
    public async Task A_worker_stop_does_not_wait_for_ever_for_an_observer_that_never_returns()
    {
        var hanging = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var cancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var never = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var q = await TestQueue.CreateAsync(fixture, b => b
            .AddJob<ValueJob>((_, _, _) => Task.CompletedTask)
            .AddMiddleware(new IgnoringObserver(never.Task, hanging, cancelled)),
            driver: o => o.Retention = new RetentionPolicy { CompletedJobs = Retain.Yes },
            worker: o => o.ShutdownTimeout = TimeSpan.FromSeconds(1));
        try
        {
            await q.StartAsync();
            var id = await q.Queue.PushAsync(new ValueJob(1));
            await hanging.Task.WaitAsync(TimeSpan.FromSeconds(60));

            var stop = await Record.ExceptionAsync(() => q.Worker.StopAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60)));
            Assert.True(stop is null, $"The worker's stop with an observer that never returns ended with {stop?.GetType().Name}: {stop?.Message}");
            Assert.True(cancelled.Task.IsCompleted, "The stop returned without cancelling the token of the observer it stopped waiting for.");
            Assert.Equal(JobState.Completed, (await q.Queue.GetJobAsync(id))!.State);
        }
        finally
        {
            never.TrySetResult();
        }
    }

    /// <summary>Never returns from <see cref="OnCompletedAsync"/> (ignoring its token, whose cancellation it reports).</summary>
    private sealed class IgnoringObserver(Task release, TaskCompletionSource hanging, TaskCompletionSource cancelled) : IJobMiddleware
    {
        public async ValueTask OnCompletedAsync(JobCompletedContext context, CancellationToken cancellationToken)
        {
            using var report = cancellationToken.Register(() => cancelled.TrySetResult());
            hanging.TrySetResult();
            await release;
        }
    }

    /// <summary>Never returns from <see cref="OnCompletedAsync"/> for job value 1 until <paramref name="release"/> completes.</summary>
    private sealed class HangingObserver(Task release, TaskCompletionSource hanging) : IJobMiddleware
    {
        public async ValueTask OnCompletedAsync(JobCompletedContext context, CancellationToken cancellationToken)
        {
            if (context.Attempt == 1 && hanging.TrySetResult())
            {
                await release.WaitAsync(cancellationToken);
            }
        }
    }
}
