using System.Collections.Concurrent;

namespace Jobs.Sdk.Tests.Execution;

/// <summary>
/// A job's timeout covers its whole attempt, the pop observers included: a middleware whose
/// <see cref="IJobMiddleware.OnPopAsync"/> waits (on its token) for ever ends the attempt as a timed-out one, as the same
/// wait in the handler does, instead of holding the worker's slot for good.
/// </summary>
public sealed class PopObserverTimeoutTests
{
    [Fact]
    public async Task A_pop_observer_that_hangs_times_the_attempt_out_and_the_retry_runs_the_handler()
    {
        var log = new RunLog();
        await using var host = await TestHost.Create(j => j
            .AddMiddleware(new HangingPop(hangOnAttempt: 1))
            .AddJob<ValueJob>((job, ctx, ct) => { log.Add(job.Value, ctx.Attempt); return Task.CompletedTask; }, o =>
            {
                o.Timeout = TimeSpan.FromMilliseconds(50);
                o.RetryStrategy = JobRetryStrategy.ExponentialJitter(maxAttempts: 3, maxBackoff: TimeSpan.FromMilliseconds(1));
            })
            .AddWorkers(), driver: d => d.Retention = new RetentionPolicy { CompletedJobs = Retain.Yes }).StartAsync();

        var id = await host.Queue.PushAsync(new ValueJob(4));
        var info = await host.WaitForStateAsync(id, JobState.Completed);

        Assert.Equal([(4, 2)], log.Runs); // attempt 1 never reached its handler: it timed out in the pop observer
        var error = Assert.Single(info.Errors);
        Assert.Equal(1, error.Attempt);
        Assert.StartsWith("Jobs.Sdk.JobTimeoutException: Job 'test.value' timed out after 00:00:00.0500000 on attempt 1.", error.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_pop_observer_that_hangs_on_the_last_attempt_fails_the_job_with_a_timeout_error()
    {
        var ran = new ConcurrentQueue<int>();
        await using var host = await TestHost.Create(j => j
            .AddMiddleware(new HangingPop(hangOnAttempt: 1))
            .AddJob<ValueJob>((job, ctx, ct) => { ran.Enqueue(ctx.Attempt); return Task.CompletedTask; }, o =>
            {
                o.Timeout = TimeSpan.FromMilliseconds(20);
                o.RetryStrategy = JobRetryStrategy.None;
            })
            .AddWorkers()).StartAsync();

        var id = await host.Queue.PushAsync(new ValueJob(1));
        var info = await host.WaitForStateAsync(id, JobState.Failed);

        Assert.StartsWith("Jobs.Sdk.JobTimeoutException: Job 'test.value' timed out", info.LastError, StringComparison.Ordinal);
        Assert.Empty(ran);
    }

    /// <summary>Waits on its token for ever in <see cref="OnPopAsync"/> for the given attempt (a call without its own timeout).</summary>
    private sealed class HangingPop(int hangOnAttempt) : IJobMiddleware
    {
        public async ValueTask OnPopAsync(JobPopContext context, CancellationToken cancellationToken)
        {
            if (context.Attempt == hangOnAttempt)
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }
        }
    }
}
