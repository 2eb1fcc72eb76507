namespace Jobs.Sdk.Tests.Execution;

/// <summary>
/// A job that cannot run here (its payload does not decode) still goes through the pop observers, on the attempt's
/// token: a middleware whose <see cref="IJobMiddleware.OnPopAsync"/> waits on its token for ever is interrupted by a
/// worker's stop, a user's cancel or the job type's timeout as a handler would be, instead of holding the worker's slot
/// (and the job) for good.
/// </summary>
public sealed class UnrunnablePopObserverTests
{
    [Fact]
    public async Task A_stop_interrupts_a_hanging_pop_observer_of_an_undecodable_job_and_gives_the_job_back_uncounted()
    {
        var popped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var host = await TestHost.Create(j => j
            .AddMiddleware(new HangingPop(popped))
            .AddJob<ValueJob>((job, ctx, ct) => Task.CompletedTask)
            .AddWorkers(o => o.ShutdownTimeout = TimeSpan.FromMilliseconds(50))).StartAsync();
        await using var _ = host;

        var id = await host.Queue.PushAsync(new BadPayloadJob("not a number"));
        await popped.Task.WaitAsync(TestHost.Timeout);
        await host.Worker.StopAsync(CancellationToken.None).WaitAsync(TestHost.Timeout);

        // As a stop during any attempt: the job goes back to pending with its attempt not counted (a worker of a version
        // that decodes it may take it).
        var info = await host.WaitForStateAsync(id, JobState.Pending);
        Assert.Equal(0, info.Attempts);
    }

    [Fact]
    public async Task A_cancel_interrupts_a_hanging_pop_observer_of_an_undecodable_job_and_the_job_is_cancelled()
    {
        var popped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var host = await TestHost.Create(j => j
            .AddMiddleware(new HangingPop(popped))
            .AddJob<ValueJob>((job, ctx, ct) => Task.CompletedTask)
            .AddWorkers(), driver: d => d.Retention = new RetentionPolicy { CancelledJobs = Retain.Yes }).StartAsync();

        var id = await host.Queue.PushAsync(new BadPayloadJob("not a number"));
        await popped.Task.WaitAsync(TestHost.Timeout);
        Assert.True(await host.Queue.CancelAsync(id));

        var info = await host.WaitForStateAsync(id, JobState.Cancelled);
        Assert.Equal(1, info.Attempts);
    }

    [Fact]
    public async Task The_job_types_timeout_interrupts_a_hanging_pop_observer_of_an_undecodable_job_and_the_job_fails_with_its_decode_error()
    {
        // The type is known (only this payload does not decode), so its Timeout covers the attempt from its start, as it
        // does for a decodable job's pop observers. The job cannot run on any retry, so the attempt fails for good with the
        // error that keeps it from running.
        var popped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var host = await TestHost.Create(j => j
            .AddMiddleware(new HangingPop(popped))
            .AddJob<ValueJob>((job, ctx, ct) => Task.CompletedTask, o =>
            {
                o.Timeout = TimeSpan.FromMilliseconds(50);
                o.RetryStrategy = JobRetryStrategy.ExponentialJitter(maxAttempts: 3, maxBackoff: TimeSpan.FromMilliseconds(1));
            })
            .AddWorkers()).StartAsync();

        var id = await host.Queue.PushAsync(new BadPayloadJob("not a number"));
        await popped.Task.WaitAsync(TestHost.Timeout);

        var info = await host.WaitForStateAsync(id, JobState.Failed);
        Assert.Equal(1, info.Attempts);
        Assert.StartsWith("Jobs.Sdk.JobDecodeException: Cannot decode job 'test.value'", info.LastError, StringComparison.Ordinal);
    }

    /// <summary>Waits on its token for ever in <see cref="OnPopAsync"/> (a call without its own timeout).</summary>
    private sealed class HangingPop(TaskCompletionSource popped) : IJobMiddleware
    {
        public async ValueTask OnPopAsync(JobPopContext context, CancellationToken cancellationToken)
        {
            popped.TrySetResult();
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
    }
}
