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
