using Jobs.Sdk.Drivers;
using Microsoft.Extensions.DependencyInjection;

namespace Jobs.Sdk.Tests.Execution;

/// <summary>
/// The one middleware error policy: <c>HandleAsync</c> is part of the attempt; the observers (push, pop, completed) run
/// after the fact they report is stored, and an observer's exception is logged and changes nothing.
/// </summary>
public class MiddlewareErrorPolicyTests
{
    private static readonly IJobRetryStrategy FastRetry = JobRetryStrategy.ExponentialJitter(maxAttempts: 2, maxBackoff: TimeSpan.FromMilliseconds(1));

    [Fact]
    public async Task Throwing_observers_change_no_outcome_and_completion_observers_wait_for_the_write()
    {
        var probe = new ProbeMiddleware(throwFromObservers: true);
        var ran = false;
        await using var h = new ExecutorHarness([new JobDefinition<ValueJob>((_, _, _, _) => { ran = true; return Task.CompletedTask; }, null, null)], [probe]);
        var claim = ExecutorHarness.Claim(new ValueJob(1));

        var result = await h.RunAsync(claim);

        Assert.True(ran); // the throwing pop observer did not stop the job
        Assert.Equal(JobOutcomeKind.Completed, result.Outcome!.Value.Kind);
        Assert.Equal(["pop", "handle"], probe.Events); // completion is not reported before the outcome is recorded
        await result.OnRecorded!(CancellationToken.None); // what the completer runs after the write: the throw is logged
        Assert.Equal(["pop", "handle", "completed:Completed"], probe.Events);
    }

    [Fact]
    public async Task A_throwing_wrapper_is_the_attempts_failure()
    {
        await using var h = new ExecutorHarness([new JobDefinition<ValueJob>((_, _, _, _) => Task.CompletedTask, FastRetry, null)], [new FailingWrapper()]);

        var outcome = (await h.RunAsync(ExecutorHarness.Claim(new ValueJob(1), attempt: 1, maxAttempts: 2))).Outcome!.Value;

        Assert.Equal((JobOutcomeKind.Retry, "System.InvalidOperationException: wrapper failed"), (outcome.Kind, outcome.Error));
    }

    [Fact]
    public async Task A_retrys_push_observer_runs_only_after_the_retry_is_written()
    {
        var probe = new ProbeMiddleware();
        await using var h = new ExecutorHarness([new JobDefinition<ValueJob>((_, _, _, _) => throw new InvalidOperationException(), FastRetry, null)], [probe]);

        var result = await h.RunAsync(ExecutorHarness.Claim(new ValueJob(1), attempt: 1, maxAttempts: 2));

        Assert.Equal(JobOutcomeKind.Retry, result.Outcome!.Value.Kind);
        Assert.DoesNotContain("push:2", probe.Events);
        await result.OnRecorded!(CancellationToken.None);
        Assert.Contains("push:2", probe.Events);
    }

    [Fact]
    public async Task In_a_worker_the_retry_push_observer_sees_the_retry_stored()
    {
        var states = new System.Collections.Concurrent.ConcurrentQueue<JobState?>();
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        IServiceProvider? services = null;
        await using var host = TestHost.Create(j => j
            .ConfigureQueue(q => q.DefaultRetryStrategy = new RetryAnHourLater())
            .AddMiddleware(new StateProbe(() => services!.GetRequiredService<JobQueue>(), states, done))
            .AddJob<ValueJob>((_, _, _) => throw new InvalidOperationException())
            .AddWorkers());
        services = host.Services;

        // Pushed before the workers start, so no claim can move the job on before the push observer reads it.
        await host.Queue.PushAsync(new ValueJob(1));
        await host.StartAsync();
        await done.Task.WaitAsync(TestHost.Timeout);

        // Attempt 1 is seen as pending (stored by the push); attempt 2 as retrying (stored by the completer), never processing.
        // The retry is due an hour later, so no claim can move the job on before the observer reads it.
        Assert.Equal([JobState.Pending, JobState.Retrying], states);
    }

    [Fact]
    public async Task A_throwing_push_observer_does_not_fail_the_push_and_the_job_is_stored()
    {
        await using var host = TestHost.Create(j => j
            .AddMiddleware(new ProbeMiddleware(throwFromObservers: true))
            .AddJob<ValueJob>((_, _, _) => Task.CompletedTask));

        var id = await host.Queue.PushAsync(new ValueJob(1));
        var ids = await host.Queue.PushManyAsync([new ValueJob(2), new ValueJob(3)]);

        Assert.Equal(JobState.Pending, (await host.Queue.GetJobAsync(id))!.State);
        Assert.Equal(2, ids.Count);
        Assert.Equal(3, (await host.Queue.GetCountsAsync()).Pending);
    }

    private sealed class FailingWrapper : IJobMiddleware
    {
        public Task HandleAsync(JobExecutionContext context, Func<Task> next, CancellationToken cancellationToken)
            => throw new InvalidOperationException("wrapper failed");
    }

    private sealed class StateProbe(Func<JobQueue> queue, System.Collections.Concurrent.ConcurrentQueue<JobState?> states, TaskCompletionSource done)
        : IJobMiddleware
    {
        public async ValueTask OnPushAsync(JobPushContext context, CancellationToken cancellationToken)
        {
            states.Enqueue((await queue().GetJobAsync(context.JobId, cancellationToken))?.State);
            if (states.Count == 2)
            {
                done.TrySetResult(); // the push and the retry have both been observed
            }
        }
    }

    private sealed class RetryAnHourLater : IJobRetryStrategy
    {
        public int MaxAttempts => 2;

        public bool ShouldRetry(int attempt, Exception error) => true;

        public TimeSpan GetDelay(int attempt, Exception error) => TimeSpan.FromHours(1);
    }
}
