using Jobs.Sdk.Drivers;
using Microsoft.Extensions.DependencyInjection;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// A cleanup pass removes running jobs (<see cref="CleanupOptions.ProcessingJobs"/> = <see cref="CleanupAction.Remove"/> or
/// <see cref="CleanupAction.RemoveOlderThan"/>). A job a live worker runs is removed as an operator's delete removes it
/// (<see cref="DeleteRunningJobTests"/>): its handler is told at once, and it keeps the slots it holds in its key's line and
/// in its queue's global count until its handler really ended, then its row goes. A job whose lease ended (its worker
/// died) goes at once, as the lease rescue would remove it.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class CleanupRunningJobTests(PostgresFixture fixture)
{
    private static CleanupOptions RemoveRunning(bool olderThan) => new()
    {
        ProcessingJobs = olderThan ? CleanupAction.RemoveOlderThan(TimeSpan.Zero) : CleanupAction.Remove,
    };

    /// <summary>With LISTEN/NOTIFY the cleanup's notification tells the worker; in poll-only mode the cleanup tells this process's workers itself.</summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_cleanup_removing_running_jobs_cancels_their_handler_token_without_waiting_for_a_lease_renewal(bool listenNotify)
    {
        // No renewal within the test: only the cleanup can stop it.
        await using var job = await RunningJobToRemove.WaitingOnItsTokenAsync(fixture, driver: o => o.UseListenNotify = listenNotify);
        var q = job.Queue;

        await q.Queue.CleanupAsync(q.Queue.QueueName, RemoveRunning(olderThan: false));

        var error = await Record.ExceptionAsync(() => job.Stopped.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.True(error is null, "30 s after a cleanup removed its running job the handler still had an uncancelled token (the next lease renewal is 20 min away).");
        await TestExtensions.EventuallyAsync(async () => await q.Queue.GetJobAsync(job.Running) is null, 60, "the removed job's row is gone once its handler stopped");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_running_job_a_cleanup_removes_keeps_its_concurrency_key_slot_until_its_handler_returned(bool olderThan)
    {
        await using var slot = await RunningJobToRemove.HoldingItsKeySlotAsync(fixture);
        await CleanupAndAssertTheSlotHeldAsync(slot, RemoveRunning(olderThan));
    }

    [Fact]
    public async Task A_running_job_a_cleanup_removes_keeps_its_global_concurrency_slot_until_its_handler_returned()
    {
        await using var slot = await RunningJobToRemove.HoldingItsQueueSlotAsync(fixture, "cleanup_global_");
        await CleanupAndAssertTheSlotHeldAsync(slot, RemoveRunning(olderThan: false));
    }

    /// <summary>
    /// A live worker's job is marked and counted once (a later pass finds it marked and leaves it), a dead worker's job
    /// (its lease ended) is deleted at once; the live worker's outcome then removes its row, whatever the outcome.
    /// The count <c>jobs cleanup</c> reports holds both.
    /// </summary>
    [Fact]
    public async Task A_cleanup_deletes_a_dead_workers_running_job_at_once_and_counts_a_live_ones_once()
    {
        await using var q = await TestQueue.CreateAsync(fixture, b => { }, driver: o => o.Retention = RunningJobToRemove.KeepEverything); // no worker runs: no rescue
        var live = await q.Queue.PushAsync(new ValueJob(1));
        var alive = Assert.Single(await q.Driver.ClaimAsync(new JobClaimRequest("alive", 1, TimeSpan.FromHours(1)), CancellationToken.None));
        var dead = await q.Queue.PushAsync(new ValueJob(2));
        Assert.Single(await q.Driver.ClaimAsync(new JobClaimRequest("dead", 1, TimeSpan.FromHours(1)), CancellationToken.None));
        await q.DataSource.ExecAsync($"UPDATE jobs_test.jobs SET lease_expires_at = now() - interval '1 second' WHERE id = '{dead.Value}'");

        Assert.Equal(2, await q.Driver.CleanupCountingAsync(RemoveRunning(olderThan: false), CancellationToken.None));

        Assert.Null(await q.Queue.GetJobAsync(dead));
        var admin = q.Services.GetRequiredService<JobAdmin>();
        var marked = await admin.GetJobAsync(live);
        Assert.True(marked is { State: JobState.Processing, CancelRequested: true, DeleteRequested: true, WorkerId: "alive" },
            $"A cleanup left the live worker's running job {marked?.State.ToString() ?? "gone"} (cancel requested {marked?.CancelRequested}, " +
            $"delete requested {marked?.DeleteRequested}), not running and marked to be removed when its attempt ends.");
        // Its worker keeps its claim and learns of the cancel at its renewal too (its token is cancelled at once: see above).
        var renewal = await q.Driver.RenewLeasesAsync("alive", [new JobLease(live, alive.LeaseToken)], TimeSpan.FromHours(1), CancellationToken.None);
        Assert.Equal([(live, alive.LeaseToken)], renewal.CancelRequested.Select(l => (l.Id, l.LeaseToken)));
        Assert.Empty(renewal.Lost);

        Assert.Equal(0, await q.Driver.CleanupCountingAsync(RemoveRunning(olderThan: false), CancellationToken.None)); // already marked: not counted again
        Assert.Equal(1, (await q.Queue.GetCountsAsync()).Processing);

        await q.Driver.CompleteAsync("alive", [new JobOutcome(live, JobOutcomeKind.Completed, 1, LeaseToken: alive.LeaseToken)], CancellationToken.None);
        var left = await q.Queue.GetJobAsync(live);
        Assert.True(left is null, $"After its outcome the running job a cleanup removed is still there, {left?.State}.");
    }

    /// <summary>
    /// Runs <paramref name="cleanup"/> while the slot's running job runs (its handler ignoring its token), then checks that
    /// no claim takes the waiting job while that handler runs: the slot's probe claim takes nothing and the job is still
    /// pending. The handler's token is cancelled. Then lets the handler return: the waiting job starts only after it, and
    /// the removed job's row is gone, not left completed.
    /// </summary>
    private static async Task CleanupAndAssertTheSlotHeldAsync(HoldingASlot slot, CleanupOptions cleanup)
    {
        var (q, first, running, waiting, secondStarted, probe, limit) = slot;
        var admin = q.Services.GetRequiredService<JobAdmin>();
        await q.Queue.CleanupAsync(q.Queue.QueueName, cleanup);

        var taken = await q.Driver.ClaimAsync(probe, CancellationToken.None);
        var state = (await admin.GetJobAsync(waiting))?.State;
        Assert.True(taken.Count == 0 && state == JobState.Pending && !secondStarted.IsCompleted,
            $"While the handler of the running job a cleanup removed still ran ({limit}), a claim took [{string.Join(", ", taken.Select(t => t.Id == waiting ? "the waiting job" : t.Id.ToString()))}] " +
            $"and the waiting job was {state?.ToString() ?? "gone"}{(secondStarted.IsCompleted ? ", its handler started" : "")}: two jobs ran where the limit allows one.");
        var removing = await admin.GetJobAsync(running);
        Assert.True(removing is { State: JobState.Processing, DeleteRequested: true, CancelRequested: true },
            $"While its handler ran the job a cleanup removed read {removing?.State.ToString() ?? "gone"}, delete requested {removing?.DeleteRequested}.");
        await first.TokenCancelled.WaitAsync(TimeSpan.FromSeconds(60)); // told at once; it goes on running

        first.Release();
        Assert.True(await secondStarted.WaitAsync(TimeSpan.FromSeconds(60)), "The waiting job started before the removed job's handler returned.");
        await TestExtensions.EventuallyAsync(async () => await admin.GetJobAsync(running) is null, 60,
            "the row of the running job a cleanup removed is gone once its handler returned (not left completed)");
    }
}
