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
    /// <summary>Keeps every finished job, so a row that should have been deleted would still be there.</summary>
    private static readonly RetentionPolicy KeepEverything = new() { CompletedJobs = Retain.Yes, FailedJobs = Retain.Yes, CancelledJobs = Retain.Yes };

    [Fact]
    public async Task Deleting_a_running_job_cancels_its_handler_token_without_waiting_for_a_lease_renewal()
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>(async (_, _, ct) =>
            {
                started.TrySetResult();
                try
                {
                    await Task.Delay(Timeout.Infinite, ct);
                }
                finally
                {
                    stopped.TrySetResult();
                }
            }),
            worker: o => o.LeaseDuration = TimeSpan.FromHours(1)); // no renewal within the test: only the delete can stop it
        var id = await q.Queue.PushAsync(new ValueJob(1));
        await q.StartAsync();
        await started.Task.WaitAsync(TimeSpan.FromSeconds(60));

        var admin = q.Services.GetRequiredService<JobAdmin>();
        Assert.Equal(1, await admin.DeleteAsync(JobSelection.Ids(id)));

        var error = await Record.ExceptionAsync(() => stopped.Task.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.True(error is null, "30 s after the delete of its running job the handler still had an uncancelled token (the next lease renewal is 20 min away).");
        await TestExtensions.EventuallyAsync(async () => await q.Queue.GetJobAsync(id) is null, 60, "the deleted job's row is gone once its handler stopped");
    }

    [Fact]
    public async Task A_deleted_running_job_keeps_its_concurrency_key_slot_until_its_handler_returned()
    {
        var first = new HeldHandler();
        var second = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<KeyedRecordJob>(async (job, _, ct) =>
            {
                if (job.N == 1000)
                {
                    await first.RunAsync(ct);
                }
                else
                {
                    second.TrySetResult(first.Returned);
                }
            }),
            driver: o => o.Retention = KeepEverything);
        var running = await q.Queue.PushAsync(new KeyedRecordJob(1000)); // key 1, limit 1
        var waiting = await q.Queue.PushAsync(new KeyedRecordJob(1001)); // key 1, behind it
        await q.StartAsync();
        await first.Started.WaitAsync(TimeSpan.FromSeconds(60));

        try
        {
            await DeleteAndAssertTheSlotHeldAsync(q, first, running, waiting, second.Task,
                new JobClaimRequest("probe", 10, TimeSpan.FromMinutes(10)) { JobNames = [KeyedRecordJob.JobName] }, "ConcurrencyLimit = 1 of its key");
        }
        finally
        {
            first.Release();
        }
    }

    [Fact]
    public async Task A_deleted_running_job_keeps_its_global_concurrency_slot_until_its_handler_returned()
    {
        var first = new HeldHandler();
        var second = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        var queueName = "delete_global_" + Guid.NewGuid().ToString("N")[..8];
        await using var q = await TestQueue.CreateAsync(fixture, b => b
                .AddQueue(queueName, o => o.GlobalConcurrency = 1)
                .AddJob<ValueJob>(async (job, _, ct) =>
                {
                    if (job.Value == 1)
                    {
                        await first.RunAsync(ct);
                    }
                    else
                    {
                        second.TrySetResult(first.Returned);
                    }
                }),
            driver: o => o.Retention = KeepEverything, queueName: queueName);
        var running = await q.Queue.PushAsync(new ValueJob(1));
        await q.StartAsync();
        await first.Started.WaitAsync(TimeSpan.FromSeconds(60));
        var waiting = await q.Queue.PushAsync(new ValueJob(2));

        try
        {
            await DeleteAndAssertTheSlotHeldAsync(q, first, running, waiting, second.Task,
                new JobClaimRequest("probe", 10, TimeSpan.FromMinutes(10)) { GlobalConcurrency = 1 }, "GlobalConcurrency = 1 of its queue");
        }
        finally
        {
            first.Release();
        }
    }

    /// <summary>
    /// Deletes <paramref name="running"/> (its handler <paramref name="first"/> ignores its token), then checks that no claim
    /// takes <paramref name="waiting"/> while the handler runs: a claim of our own (<paramref name="probe"/>, as any worker's
    /// next claim would be) takes nothing and the job is still pending. Then lets the handler return: the waiting job
    /// starts only after it (<paramref name="secondStarted"/> yields whether the first handler had returned), and the
    /// deleted job's row is gone, not left completed.
    /// </summary>
    private static async Task DeleteAndAssertTheSlotHeldAsync(TestQueue q, HeldHandler first, JobId running, JobId waiting, Task<bool> secondStarted,
        JobClaimRequest probe, string limit)
    {
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
