using System.Text;
using Jobs.Sdk.Drivers;

namespace Jobs.Sdk.Admin.Tests;

// An operator's delete of a running job: cancelled and removed when its attempt ends. Until then it stays processing and
// keeps its slots (its concurrency key's line, its queue's global count), so ConcurrencyLimit and GlobalConcurrency hold
// while its handler unwinds or ignores its token; then its row goes, whatever the outcome, or when its lease expires.
public abstract partial class AdminConformanceTests
{
    private static readonly RetentionPolicy KeepEverything = new() { CompletedJobs = Retain.Yes, FailedJobs = Retain.Yes, CancelledJobs = Retain.Yes };

    private static JobPushRecord JobRecord(int value, string? key = null) => new()
    {
        Id = JobId.New(), Name = AdminJob.JobName, Payload = Encoding.UTF8.GetBytes($$"""{"value":{{value}},"tag":"d"}"""),
        ConcurrencyKey = key, ConcurrencyLimit = key is null ? null : 1,
    };

    private static Task<IReadOnlyList<ClaimedJob>> ClaimAsync(AdminHost host, int? globalConcurrency, TimeSpan? lease = null)
        => host.Driver.ClaimAsync(new JobClaimRequest("w-del", 10, lease ?? TimeSpan.FromMinutes(5)) { GlobalConcurrency = globalConcurrency }, CancellationToken.None);

    /// <summary>Deletes <paramref name="running"/> and checks how it reads while its attempt goes on.</summary>
    private static async Task DeleteRunningAsync(AdminHost host, JobId running)
    {
        Assert.Equal(1, await host.Admin.DeleteAsync(JobSelection.Ids(running)));
        var details = await host.Admin.GetJobAsync(running);
        Assert.True(details is { State: JobState.Processing, CancelRequested: true, DeleteRequested: true },
            $"A deleted running job read {details?.State.ToString() ?? "gone"} (cancel requested {details?.CancelRequested}, delete requested {details?.DeleteRequested}) while its attempt went on.");
        var listed = await host.Admin.ListJobsAsync(new JobQuery { Queue = host.Queue.QueueName, States = [JobState.Processing] });
        Assert.True(Assert.Single(listed.Items).DeleteRequested, "The list does not show that the running job is being deleted.");
        Assert.Equal(0, await host.Admin.DeleteAsync(JobSelection.Ids(running))); // already being deleted: not counted again
    }

    [Theory]
    [InlineData(JobOutcomeKind.Completed, false)] // retention drops completed jobs: the worker's removing fast path
    [InlineData(JobOutcomeKind.Completed, true)]
    [InlineData(JobOutcomeKind.Failed, true)]
    [InlineData(JobOutcomeKind.Retry, true)]
    [InlineData(JobOutcomeKind.Cancelled, false)]
    public async Task A_deleted_running_job_holds_its_concurrency_key_slot_until_its_outcome_which_removes_it(JobOutcomeKind outcome, bool keepFinished)
    {
        await using var host = await CreateHost(retention: keepFinished ? KeepEverything : null).StartAsync();
        var first = JobRecord(1, "tenant");
        var second = JobRecord(2, "tenant");
        await host.Driver.PushAsync([first, second], null, CancellationToken.None);
        var a = Assert.Single(await ClaimAsync(host, null));
        Assert.Equal(first.Id, a.Id);

        await DeleteRunningAsync(host, first.Id);
        var during = await ClaimAsync(host, null);
        Assert.True(during.Count == 0, "A claim took the next job of the key (limit 1) while the deleted job's handler still ran.");

        await host.Driver.CompleteAsync("w-del", [new JobOutcome(a.Id, outcome, a.Attempt, TimeSpan.Zero, a.Attempt + 1, Error: "late", LeaseToken: a.LeaseToken)],
            CancellationToken.None);
        var left = await host.Admin.GetJobAsync(first.Id);
        Assert.True(left is null, $"After its {outcome} outcome the deleted job is still there, {left?.State}.");
        Assert.Equal([second.Id], (await ClaimAsync(host, null)).Select(c => c.Id));
    }

    [Fact]
    public async Task A_deleted_running_job_holds_its_global_concurrency_slot_until_its_outcome_which_removes_it()
    {
        await using var host = await CreateHost(retention: KeepEverything).StartAsync();
        var first = JobRecord(1);
        await host.Driver.PushAsync([first], null, CancellationToken.None);
        var a = Assert.Single(await ClaimAsync(host, globalConcurrency: 1));
        var second = JobRecord(2);
        await host.Driver.PushAsync([second], null, CancellationToken.None);

        await DeleteRunningAsync(host, first.Id);
        Assert.True((await ClaimAsync(host, globalConcurrency: 1)).Count == 0,
            "A claim under GlobalConcurrency = 1 took a job while the deleted job's handler still ran.");

        await host.Driver.CompleteAsync("w-del", [new JobOutcome(a.Id, JobOutcomeKind.Cancelled, a.Attempt, LeaseToken: a.LeaseToken)], CancellationToken.None);
        Assert.Null(await host.Admin.GetJobAsync(first.Id));
        Assert.Equal([second.Id], (await ClaimAsync(host, globalConcurrency: 1)).Select(c => c.Id));
    }

    [Fact]
    public async Task A_deleted_running_job_whose_worker_died_is_removed_by_the_lease_rescue_not_requeued()
    {
        await using var host = await CreateHost(retention: KeepEverything).StartAsync();
        var first = JobRecord(1, "tenant");
        var second = JobRecord(2, "tenant");
        await host.Driver.PushAsync([first, second], null, CancellationToken.None);
        var a = Assert.Single(await ClaimAsync(host, null, lease: TimeSpan.FromMilliseconds(200)));
        await DeleteRunningAsync(host, a.Id);

        // Its worker never reports: once the lease expired, a rescue deletes the row (and frees the key's slot).
        await Eventually.GetAsync(async () =>
        {
            await host.Driver.RescueExpiredLeasesAsync(CancellationToken.None);
            return await host.Admin.GetJobAsync(first.Id);
        }, j => j is not { State: JobState.Processing }, "the lease rescue ends the deleted job", seconds: 60);
        var left = await host.Admin.GetJobAsync(first.Id);
        Assert.True(left is null, $"The lease rescue left the deleted job {left?.State}, not deleted.");
        Assert.Equal([second.Id], (await ClaimAsync(host, null)).Select(c => c.Id));
    }
}
