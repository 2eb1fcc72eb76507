namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// Issue 13, finding 2: once <see cref="JobQueue.CancelAsync"/> returned true for a running job, no outcome other than
/// success puts it back in the queue; it never runs another attempt.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class StickyCancelTests(PostgresFixture fixture)
{
    private static readonly RetentionPolicy KeepCancelled = new() { CancelledJobs = Retain.Yes };

    [Fact]
    public async Task A_handler_that_wraps_the_cancellation_in_its_own_exception_ends_cancelled_not_retried()
    {
        var runs = new Recorder<int>();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>(async (_, ctx, ct) =>
        {
            runs.Add(ctx.Attempt);
            started.TrySetResult();
            await WrapCancellationAsync(ct);
        }), driver: o => o.Retention = KeepCancelled);
        await q.StartAsync();
        var id = await q.Queue.PushAsync(new ValueJob(1));
        await started.Task.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.True(await q.Queue.CancelAsync(id));

        await TestExtensions.EventuallyAsync(async () => (await q.Queue.GetJobAsync(id))?.State == JobState.Cancelled, what: "cancelled");
        await q.StopAsync();
        Assert.Equal([1], runs.Items);
        Assert.Equal(1, (await q.Queue.GetJobAsync(id))!.Attempts);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_cancelled_job_whose_handler_then_fails_its_last_attempt_ends_cancelled_not_failed(bool failedJobsRemoved)
    {
        // The handler wraps the cancellation in its own exception on the job's last attempt: the retry rule says "fail",
        // but the cancel was accepted first, so the job must end cancelled (kept, as retention keeps cancelled jobs here).
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>(async (_, _, ct) =>
        {
            started.TrySetResult();
            await WrapCancellationAsync(ct);
        }), driver: o => o.Retention = new RetentionPolicy { CancelledJobs = Retain.Yes, FailedJobs = failedJobsRemoved ? Retain.No : Retain.Yes });
        await q.StartAsync();
        var id = await q.Queue.PushAsync(new ValueJob(1), new JobOptions { MaxAttempts = 1 });
        await started.Task.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.True(await q.Queue.CancelAsync(id));

        await TestExtensions.EventuallyAsync(async () => (await q.Queue.GetJobAsync(id))?.State is not JobState.Processing, what: "the attempt ended");
        await q.StopAsync();
        var info = await q.Queue.GetJobAsync(id);
        Assert.True(info?.State == JobState.Cancelled, $"A job whose cancel was accepted ended {info?.State.ToString() ?? "deleted"}, not Cancelled.");
    }

    [Fact]
    public async Task Poll_only_a_cancel_learnt_at_lease_renewal_and_wrapped_by_the_handler_ends_cancelled()
    {
        var runs = new Recorder<int>();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var queueName = "sticky_poll_" + Guid.NewGuid().ToString("N")[..8];
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>(async (_, ctx, ct) =>
        {
            runs.Add(ctx.Attempt);
            started.TrySetResult();
            await WrapCancellationAsync(ct);
        }), driver: PollOnlyKeepingCancelled,
            worker: o => o.LeaseDuration = TimeSpan.FromSeconds(3), queueName: queueName);
        // Another process cancels: this worker hears of it only when it renews its lease.
        await using var admin = await OtherProcessAsync(queueName);
        await q.StartAsync();
        var id = await q.Queue.PushAsync(new ValueJob(1));
        await started.Task.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.True(await admin.Queue.CancelAsync(id));

        await TestExtensions.EventuallyAsync(async () => (await q.Queue.GetJobAsync(id))?.State == JobState.Cancelled, what: "cancelled");
        await q.StopAsync();
        Assert.Equal([1], runs.Items);
    }

    [Fact]
    public async Task Shutdown_release_of_a_cancel_requested_job_ends_it_cancelled()
    {
        var runs = new Recorder<int>();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var queueName = "sticky_stop_" + Guid.NewGuid().ToString("N")[..8];
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>(async (_, ctx, ct) =>
        {
            runs.Add(ctx.Attempt);
            started.TrySetResult();
            await Task.Delay(Timeout.Infinite, ct);
        }), driver: PollOnlyKeepingCancelled,
            worker: o => { o.LeaseDuration = TimeSpan.FromMinutes(5); o.ShutdownTimeout = TimeSpan.FromMilliseconds(50); }, queueName: queueName);
        await using var admin = await OtherProcessAsync(queueName);
        await q.StartAsync();
        var id = await q.Queue.PushAsync(new ValueJob(1));
        await started.Task.WaitAsync(TimeSpan.FromSeconds(30));

        // The cancel is recorded, but the worker has not heard of it before it shuts down and releases the job.
        Assert.True(await admin.Queue.CancelAsync(id));
        await q.StopAsync();

        var info = (await q.Queue.GetJobAsync(id))!;
        Assert.Equal(JobState.Cancelled, info.State);
        Assert.Equal([1], runs.Items);
    }

    /// <summary>Poll-only (no LISTEN/NOTIFY: a worker hears of a cancel only when it renews its lease), cancelled jobs kept.</summary>
    private static void PollOnlyKeepingCancelled(PostgresJobDriverOptions o)
    {
        o.Retention = KeepCancelled;
        o.UseListenNotify = false;
    }

    /// <summary>Another process on the same queue, where the cancel comes from.</summary>
    private Task<TestQueue> OtherProcessAsync(string queueName, [System.Runtime.CompilerServices.CallerMemberName] string test = "")
        => TestQueue.CreateAsync(fixture, _ => { }, driver: PollOnlyKeepingCancelled, queueName: queueName, test: test);

    private static async Task WrapCancellationAsync(CancellationToken ct)
    {
        try
        {
            await Task.Delay(Timeout.Infinite, ct);
        }
        catch (OperationCanceledException ex)
        {
            throw new InvalidOperationException("The payment provider call was aborted.", ex);
        }
    }
}
