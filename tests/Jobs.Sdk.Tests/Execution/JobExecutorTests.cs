using Jobs.Sdk.Drivers;

namespace Jobs.Sdk.Tests.Execution;

/// <summary>
/// <see cref="JobExecutor"/> driven directly: one hand-made claim in, one outcome out, for every way an attempt ends.
/// </summary>
public class JobExecutorTests
{
    private static readonly IJobRetryStrategy FixedRetry = JobRetryStrategy.ExponentialJitter(maxAttempts: 3, maxBackoff: TimeSpan.FromSeconds(1), jitter: 0);

    private static JobDefinition<ValueJob> Handler(Func<ValueJob, JobContext, CancellationToken, Task> handler, IJobRetryStrategy? strategy = null,
        TimeSpan? timeout = null)
        => new((_, job, ctx, ct) => handler(job, ctx, ct), strategy, timeout);

    [Fact]
    public async Task A_handler_that_returns_completes_the_job_with_the_typed_payload_and_the_claims_context()
    {
        ValueJob? seen = null;
        JobContext? context = null;
        await using var h = new ExecutorHarness([Handler((job, ctx, _) => { seen = job; context = ctx; return Task.CompletedTask; })]);
        var claim = ExecutorHarness.Claim(new ValueJob(42), attempt: 2, maxAttempts: 5);

        var result = await h.RunAsync(claim);

        Assert.Equal(new JobOutcome(claim.Id, JobOutcomeKind.Completed, 2), result.Outcome);
        Assert.Equal(new ValueJob(42), seen);
        Assert.NotNull(context);
        Assert.Equal((claim.Id, 2, 5, "test-worker"), (context.Id, context.Attempt, context.MaxAttempts, context.WorkerId));
        Assert.Null(result.OnRecorded); // no middleware: nothing to run after the write
    }

    [Fact]
    public async Task A_failed_attempt_below_the_limit_is_retried_with_the_strategys_delay_and_the_error_text()
    {
        await using var h = new ExecutorHarness([Handler((_, _, _) => throw new InvalidOperationException("boom"), FixedRetry)]);
        var claim = ExecutorHarness.Claim(new ValueJob(1), attempt: 1, maxAttempts: 3);

        var outcome = (await h.RunAsync(claim)).Outcome!.Value;

        Assert.Equal(JobOutcomeKind.Retry, outcome.Kind);
        Assert.Equal(2, outcome.NextAttempt);
        Assert.Equal(TimeSpan.FromSeconds(1), outcome.Delay); // min(2^1 s, 1 s) with no jitter
        Assert.Equal("System.InvalidOperationException: boom", outcome.Error);
    }

    [Fact]
    public async Task A_failed_last_attempt_fails_the_job()
    {
        await using var h = new ExecutorHarness([Handler((_, _, _) => throw new InvalidOperationException("boom"), FixedRetry)]);
        var claim = ExecutorHarness.Claim(new ValueJob(1), attempt: 3, maxAttempts: 3);

        var outcome = (await h.RunAsync(claim)).Outcome!.Value;

        Assert.Equal((JobOutcomeKind.Failed, 3), (outcome.Kind, outcome.Attempt));
        Assert.Equal("System.InvalidOperationException: boom", outcome.Error);
    }

    [Fact]
    public async Task The_stored_limit_binds_the_default_strategy_so_a_raised_limit_keeps_retrying()
    {
        // The queue default allows 4 attempts; this job was pushed with JobOptions.MaxAttempts = 10.
        await using var h = new ExecutorHarness([Handler((_, _, _) => throw new InvalidOperationException())]);
        var claim = ExecutorHarness.Claim(new ValueJob(1), attempt: 5, maxAttempts: 10);

        Assert.Equal(JobOutcomeKind.Retry, (await h.RunAsync(claim)).Outcome!.Value.Kind);
    }

    [Fact]
    public async Task A_registration_strategy_that_declines_the_exception_fails_the_job_at_once()
    {
        await using var h = new ExecutorHarness([Handler((_, _, _) => throw new TimeZoneNotFoundException(), JobRetryStrategy.None)]);
        var claim = ExecutorHarness.Claim(new ValueJob(1), attempt: 1, maxAttempts: 5);

        Assert.Equal(JobOutcomeKind.Failed, (await h.RunAsync(claim)).Outcome!.Value.Kind);
    }

    [Fact]
    public async Task An_unknown_job_name_fails_without_running_anything()
    {
        await using var h = new ExecutorHarness([Handler((_, _, _) => throw new InvalidOperationException("must not run"))]);
        var claim = ExecutorHarness.Claim(new OrphanJob(1));

        var outcome = (await h.RunAsync(claim)).Outcome!.Value;

        Assert.Equal(JobOutcomeKind.Failed, outcome.Kind);
        Assert.StartsWith("Jobs.Sdk.UnknownJobException: No handler is registered for job 'test.orphan' in worker test-worker", outcome.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_undecodable_payload_fails_with_the_decode_error_and_never_reaches_the_handler()
    {
        var ran = false;
        await using var h = new ExecutorHarness([Handler((_, _, _) => { ran = true; return Task.CompletedTask; })]);
        var claim = ExecutorHarness.Claim(ValueJob.JobName, ExecutorHarness.Utf8("""{"value":"nope"}"""));

        var outcome = (await h.RunAsync(claim)).Outcome!.Value;

        Assert.Equal(JobOutcomeKind.Failed, outcome.Kind);
        Assert.StartsWith("Jobs.Sdk.JobDecodeException:", outcome.Error, StringComparison.Ordinal);
        Assert.False(ran);
    }

    [Fact]
    public async Task A_reschedule_request_reschedules_with_its_delay_and_attempt_rule()
    {
        await using var h = new ExecutorHarness([Handler((_, _, _) => throw new JobRescheduleException(TimeSpan.FromMinutes(1), RescheduleAttempts.Increment))]);
        var claim = ExecutorHarness.Claim(new ValueJob(1), attempt: 2, maxAttempts: 3);

        var outcome = (await h.RunAsync(claim)).Outcome!.Value;

        Assert.Equal((JobOutcomeKind.Reschedule, TimeSpan.FromMinutes(1), 3), (outcome.Kind, outcome.Delay, outcome.NextAttempt));
    }

    [Fact]
    public async Task A_timeout_on_the_runtime_clock_cancels_the_handler_and_counts_as_a_failed_attempt()
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var h = new ExecutorHarness([Handler(async (_, _, ct) => { started.SetResult(); await Task.Delay(Timeout.Infinite, ct); }, FixedRetry,
            TimeSpan.FromSeconds(30))]);
        var claim = ExecutorHarness.Claim(new ValueJob(1));

        var running = h.RunAsync(claim);
        await started.Task.WaitAsync(TestHost.Timeout);
        h.Time.Advance(TimeSpan.FromSeconds(30));
        var outcome = (await running.WaitAsync(TestHost.Timeout)).Outcome!.Value;

        Assert.Equal(JobOutcomeKind.Retry, outcome.Kind);
        Assert.StartsWith("Jobs.Sdk.JobTimeoutException: Job 'test.value' timed out after 00:00:30 on attempt 1.", outcome.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData((int)CancelReason.UserCancel, JobOutcomeKind.Cancelled)]
    [InlineData((int)CancelReason.Shutdown, JobOutcomeKind.Release)]
    public async Task Cancelling_a_running_handler_reports_the_outcome_of_the_reason(int reason, JobOutcomeKind expected)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var h = new ExecutorHarness([Handler(async (_, _, ct) => { started.SetResult(); await Task.Delay(Timeout.Infinite, ct); })]);
        using var run = new JobRun(ExecutorHarness.Claim(new ValueJob(1)));

        var running = h.Executor.ExecuteAsync(run);
        await started.Task.WaitAsync(TestHost.Timeout);
        run.Cancel((CancelReason)reason);

        Assert.Equal(expected, (await running.WaitAsync(TestHost.Timeout)).Outcome!.Value.Kind);
    }

    [Fact]
    public async Task A_handler_cancelled_because_the_lease_was_lost_reports_no_outcome()
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var h = new ExecutorHarness([Handler(async (_, _, ct) => { started.SetResult(); await Task.Delay(Timeout.Infinite, ct); })]);
        using var run = new JobRun(ExecutorHarness.Claim(new ValueJob(1)));

        var running = h.Executor.ExecuteAsync(run);
        await started.Task.WaitAsync(TestHost.Timeout);
        run.Cancel(CancelReason.LeaseLost);

        Assert.Null((await running.WaitAsync(TestHost.Timeout)).Outcome);
    }
}
