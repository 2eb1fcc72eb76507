using Jobs.Sdk.Drivers;
using Microsoft.Extensions.DependencyInjection;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// An operator deletes a running job. Its handler is told at once (not at the worker's next lease renewal, a third of
/// the lease later), but the job keeps the slots it holds in its key's line and in its queue's global count until its
/// handler really ended (issue 16: <c>ConcurrencyLimit</c> and <c>GlobalConcurrency</c> hold cluster-wide): a handler may
/// take seconds to unwind, or ignore its token. Then its row goes, whatever the outcome.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class DeleteRunningJobTests(PostgresFixture fixture)
{
    [Fact]
    public async Task Deleting_a_running_job_cancels_its_handler_token_without_waiting_for_a_lease_renewal()
    {
        await using var job = await RunningJobToRemove.WaitingOnItsTokenAsync(fixture); // no renewal within the test: only the delete can stop it
        var q = job.Queue;

        var admin = q.Services.GetRequiredService<JobAdmin>();
        Assert.Equal(1, await admin.DeleteAsync(JobSelection.Ids(job.Running)));

        var error = await Record.ExceptionAsync(() => job.Stopped.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.True(error is null, "30 s after the delete of its running job the handler still had an uncancelled token (the next lease renewal is 20 min away).");
        await TestExtensions.EventuallyAsync(async () => await q.Queue.GetJobAsync(job.Running) is null, 60, "the deleted job's row is gone once its handler stopped");
    }

    [Fact]
    public async Task A_deleted_running_job_keeps_its_concurrency_key_slot_until_its_handler_returned()
    {
        await using var slot = await RunningJobToRemove.HoldingItsKeySlotAsync(fixture);
        await DeleteAndAssertTheSlotHeldAsync(slot);
    }

    [Fact]
    public async Task A_deleted_running_job_keeps_its_global_concurrency_slot_until_its_handler_returned()
    {
        await using var slot = await RunningJobToRemove.HoldingItsQueueSlotAsync(fixture, "delete_global_");
        await DeleteAndAssertTheSlotHeldAsync(slot);
    }

    /// <summary>
    /// Deletes the running job (its handler ignores its token), then checks that no claim takes the waiting job while the
    /// handler runs: the slot's probe claim takes nothing and the job is still pending. Then lets the handler return: the
    /// waiting job starts only after it, and the deleted job's row is gone, not left completed.
    /// </summary>
    private static async Task DeleteAndAssertTheSlotHeldAsync(HoldingASlot slot)
    {
        var (q, first, running, waiting, secondStarted, probe, limit) = slot;
        var admin = q.Services.GetRequiredService<JobAdmin>();
        Assert.Equal(1, await admin.DeleteAsync(JobSelection.Ids(running)));
        await first.TokenCancelled.WaitAsync(TimeSpan.FromSeconds(60)); // told at once; it goes on running

        var taken = await q.Driver.ClaimAsync(probe, CancellationToken.None);
        var state = (await admin.GetJobAsync(waiting))?.State;
        Assert.True(taken.Count == 0 && state == JobState.Pending && !secondStarted.IsCompleted,
            $"While the deleted job's handler still ran ({limit}), a claim took [{string.Join(", ", taken.Select(t => t.Id == waiting ? "the waiting job" : t.Id.ToString()))}] " +
            $"and the waiting job was {state?.ToString() ?? "gone"}{(secondStarted.IsCompleted ? ", its handler started" : "")}: two jobs ran where the limit allows one.");
        var deleting = await admin.GetJobAsync(running);
        Assert.True(deleting is { State: JobState.Processing, DeleteRequested: true, CancelRequested: true },
            $"While its handler ran the deleted job read {deleting?.State.ToString() ?? "gone"}, delete requested {deleting?.DeleteRequested}.");
        var listed = await admin.ListJobsAsync(new JobQuery { Queue = q.Queue.QueueName, States = [JobState.Processing] });
        Assert.True(Assert.Single(listed.Items).DeleteRequested, "The list does not show that the running job is being deleted.");
        Assert.Equal(0, await admin.DeleteAsync(JobSelection.Ids(running))); // already being deleted: not counted again

        first.Release();
        Assert.True(await secondStarted.WaitAsync(TimeSpan.FromSeconds(60)), "The waiting job started before the deleted job's handler returned.");
        var deleted = await admin.GetJobAsync(running);
        Assert.True(deleted is null, $"The deleted job's row is still there after its handler returned, {deleted?.State}.");
    }
}
