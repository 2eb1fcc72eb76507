using Jobs.Sdk.Drivers;

namespace Jobs.Sdk.Admin.Tests;

// Bulk actions by a filter with states act only on jobs still in those states when they reach them (JobAdminAction.OnlyStates),
// whatever happened to the jobs between the find and the action (a worker, another operator).
public abstract partial class AdminConformanceTests
{
    private static (JobAdmin Admin, InterleavingAdminStore Store) Interleaved(AdminHost host)
    {
        var store = new InterleavingAdminStore(host.Admin.Store);
        return (new JobAdmin(store), store);
    }

    private static JobSelection InState(AdminHost host, JobState state)
        => JobSelection.Matching(new JobQuery { Queue = host.Queue.QueueName, States = [state] });

    private static Task<IReadOnlyList<ClaimedJob>> ClaimOpsAsync(AdminHost host)
        => host.Driver.ClaimAsync(new JobClaimRequest("w-ops", 10, TimeSpan.FromMinutes(5)), CancellationToken.None);

    /// <summary>Claims every due job of the queue and reports each failed with a retry due in an hour: retrying.</summary>
    private static async Task RetryLaterAsync(AdminHost host)
    {
        var claimed = await ClaimOpsAsync(host);
        await host.Driver.CompleteAsync("w-ops", claimed.Select(c => new JobOutcome(c.Id, JobOutcomeKind.Retry, c.Attempt, TimeSpan.FromHours(1),
            c.Attempt + 1, "boom", c.LeaseToken)).ToArray(), CancellationToken.None);
    }

    private static async Task<JobState?> StateAsync(AdminHost host, JobId id) => (await host.Admin.GetJobAsync(id))?.State;

    [Fact]
    public async Task A_bulk_cancel_of_pending_jobs_leaves_a_job_a_worker_started_after_it_was_found()
    {
        await using var host = await CreateHost(workers: false).StartAsync();
        var (admin, store) = Interleaved(host);
        var started = await host.Queue.PushAsync(new AdminJob(0, "cancel"));
        var delayed = await PushDelayedAsync(host.Queue, 2, "cancel", 1);
        store.AfterFind = async _ => Assert.Equal([started], (await ClaimOpsAsync(host)).Select(c => c.Id)); // a worker starts it

        var changed = await admin.CancelAsync(InState(host, JobState.Pending));

        var running = await host.Admin.GetJobAsync(started);
        Assert.True(changed == 2 && running is { State: JobState.Processing, CancelRequested: false },
            $"The cancel of pending jobs reported {changed} changed; the job that started running in between is {running?.State}, cancel requested: {running?.CancelRequested}.");
        foreach (var id in delayed)
        {
            Assert.Equal(JobState.Cancelled, await StateAsync(host, id));
        }
    }

    [Fact]
    public async Task A_bulk_retry_of_retrying_jobs_leaves_a_job_another_operator_cancelled_after_it_was_found()
    {
        await using var host = await CreateHost(workers: false).StartAsync();
        var (admin, store) = Interleaved(host);
        var ids = await host.Queue.PushManyAsync(Enumerable.Range(0, 3).Select(i => new AdminJob(i, "retry")));
        await RetryLaterAsync(host);
        store.AfterFind = async _ => Assert.Equal(1, await host.Admin.CancelAsync(JobSelection.Ids(ids[0])));

        var changed = await admin.RetryAsync(InState(host, JobState.Retrying));

        var cancelled = await StateAsync(host, ids[0]);
        Assert.True(changed == 2 && cancelled == JobState.Cancelled,
            $"The retry of retrying jobs reported {changed} changed; the job another operator cancelled in between is {cancelled}.");
        Assert.Equal(JobState.Pending, await StateAsync(host, ids[1]));
    }

    [Fact]
    public async Task A_bulk_priority_change_of_pending_jobs_leaves_a_job_paused_after_it_was_found()
    {
        await using var host = await CreateHost(workers: false).StartAsync();
        var (admin, store) = Interleaved(host);
        var ids = await PushDelayedAsync(host.Queue, 3, "priority");
        store.AfterFind = async _ => Assert.True(await host.Driver.PauseAsync(ids[0], CancellationToken.None));

        var changed = await admin.SetPriorityAsync(InState(host, JobState.Pending), JobPriority.Highest);

        var paused = await host.Admin.GetJobAsync(ids[0]);
        Assert.True(changed == 2 && paused is { State: JobState.Paused, Priority: JobPriority.Normal },
            $"The priority change of pending jobs reported {changed} changed; the job paused in between is {paused?.State} at {paused?.Priority}.");
        Assert.Equal(JobPriority.Highest, (await host.Admin.GetJobAsync(ids[1]))?.Priority);
    }

    [Fact]
    public async Task A_bulk_run_now_of_pending_jobs_leaves_a_job_that_failed_into_its_retry_delay_after_it_was_found()
    {
        await using var host = await CreateHost(workers: false).StartAsync();
        var (admin, store) = Interleaved(host);
        var ids = await PushDelayedAsync(host.Queue, 3, "run-now");
        store.AfterFind = async _ =>
        {
            // Another operator runs one now, a worker runs it and it fails: it waits an hour for its retry.
            Assert.Equal(1, await host.Admin.RunNowAsync(JobSelection.Ids(ids[0])));
            await RetryLaterAsync(host);
        };

        var changed = await admin.RunNowAsync(InState(host, JobState.Pending));

        var retrying = await host.Admin.GetJobAsync(ids[0]);
        Assert.True(changed == 2 && retrying is { State: JobState.Retrying } && retrying.RunAt > DateTimeOffset.UtcNow.AddMinutes(30),
            $"The run-now of pending jobs reported {changed} changed; the job that failed in between is {retrying?.State}, due {retrying?.RunAt:O}.");
    }
}

// The audit log records every action that changed jobs, also when its caller gave up (a closed dashboard tab, Ctrl+C) after
// the change committed.
public abstract partial class AdminConformanceTests
{
    [Fact]
    public async Task An_action_whose_caller_gave_up_after_it_changed_jobs_is_still_in_the_audit_log()
    {
        await using var host = await CreateHost(workers: false).StartAsync();
        var (admin, store) = Interleaved(host);
        var ids = await PushDelayedAsync(host.Queue, 2, "gave-up");
        using var caller = new CancellationTokenSource();
        store.AfterApply = _ => caller.Cancel(); // the request is aborted right after the cancel committed

        var outcome = await Record.ExceptionAsync(() => admin.CancelAsync(JobSelection.Ids(ids[0], ids[1]), new AuditInfo("ops", "gave up"), caller.Token));

        Assert.Equal(JobState.Cancelled, await StateAsync(host, ids[0]));
        Assert.Null(outcome); // it did what it was asked: it says so
        var audit = await host.Admin.GetAuditLogAsync(5);
        Assert.True(audit.Any(a => a is { Action: "cancel", Actor: "ops", RowsChanged: 2 }),
            $"2 jobs were cancelled but the audit log has [{string.Join("; ", audit.Select(a => $"{a.Action} by {a.Actor}: {a.RowsChanged}"))}] (the call ended with {outcome?.GetType().Name ?? "no exception"}).");
    }
}
