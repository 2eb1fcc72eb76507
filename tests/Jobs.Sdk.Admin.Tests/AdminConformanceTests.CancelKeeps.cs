namespace Jobs.Sdk.Admin.Tests;

// JobAdmin's cancel keeps the jobs it cancels for inspection (README, JobAdmin), whatever the retention of cancelled jobs
// (which applies to a job whose own attempt ends cancelled): a unique job too, once its key is free again.
public abstract partial class AdminConformanceTests
{
    [Fact]
    public async Task An_operators_cancel_keeps_a_unique_job_for_inspection_after_its_key_is_pushed_again_and_a_rescue_pass()
    {
        await using var host = CreateHost(); // the default retention: cancelled jobs are not kept
        var plain = await host.Queue.PushAsync(new AdminJob(1, "kept"), new JobOptions { DelayUntil = Later });
        var unique = await host.Queue.PushAsync(new AdminUniqueJob(1), new JobOptions { DelayUntil = Later });
        Assert.Equal(2, await host.Admin.CancelAsync(JobSelection.Ids(plain, unique), new AuditInfo("ops", "wrong customer")));

        // Without UniqueFor its key is free at once: the next push of the key stores a job, and a rescue pass (whose
        // housekeeping deletes finished unique jobs kept only for their hold) runs.
        var again = await host.Queue.TryPushAsync(new AdminUniqueJob(1), new JobOptions { DelayUntil = Later });
        Assert.Equal(0, await host.Driver.RescueExpiredLeasesAsync(default));

        async Task<string> StateOfAsync(JobId id) => (await host.Admin.GetJobAsync(id))?.State.ToString() ?? "deleted";
        Assert.Equal((true, "Cancelled", "Cancelled"), (again.Inserted && again.Id != unique, await StateOfAsync(plain), await StateOfAsync(unique)));
        // Retried, it finds its key held by the new job and is left as it was (the work is already in line).
        Assert.Equal(0, await host.Admin.RetryAsync(JobSelection.Ids(unique)));
        Assert.Equal("Cancelled", await StateOfAsync(unique));
    }

    [Fact]
    public async Task An_operators_cancel_keeps_a_unique_job_with_UniqueFor_after_its_hold_is_over()
    {
        // An operator cancelled waiting unique jobs held for UniqueFor after they finish. The cancel keeps them for
        // inspection (as it keeps every job it cancels) and their keys hold for their UniqueFor, as a completed job's do.
        // Once the hold was over, the next push of the key and the rescue pass deleted them as holders kept only for
        // their key, under the default retention (cancelled jobs not kept), on PostgreSQL.
        await using var host = CreateHost();
        var hourLong = await host.Queue.PushAsync(new AdminKeyedJob(1, 1), new JobOptions { DelayUntil = Later });
        var pushedAgain = await host.Queue.PushAsync(new AdminBrieflyHeldJob(1), new JobOptions { DelayUntil = Later });
        var neverAgain = await host.Queue.PushAsync(new AdminBrieflyHeldJob(2), new JobOptions { DelayUntil = Later });
        Assert.Equal(3, await host.Admin.CancelAsync(JobSelection.Ids(hourLong, pushedAgain, neverAgain), new AuditInfo("ops", "wrong customer")));

        // The key holds for its UniqueFor after the cancel.
        Assert.Equal(new JobPushResult(hourLong, false), await host.Queue.TryPushAsync(new AdminKeyedJob(1, 2), new JobOptions { DelayUntil = Later }));

        // A second later the hold is over: the next push of the key stores a job, and a rescue pass runs (its housekeeping
        // deletes finished unique jobs kept only for their hold).
        var again = await Eventually.GetAsync(() => host.Queue.TryPushAsync(new AdminBrieflyHeldJob(1), new JobOptions { DelayUntil = Later }),
            r => r.Inserted, "a push of the key of the job cancelled with a second's hold stores a job once the hold is over");
        Assert.Equal(0, await host.Driver.RescueExpiredLeasesAsync(default));

        async Task<string> StateOfAsync(JobId id) => (await host.Admin.GetJobAsync(id))?.State.ToString() ?? "deleted";
        var states = (PushedAgain: await StateOfAsync(pushedAgain), NeverAgain: await StateOfAsync(neverAgain), HourLong: await StateOfAsync(hourLong));
        Assert.True(states == ("Cancelled", "Cancelled", "Cancelled"),
            $"The jobs an operator cancelled, kept for inspection, are (pushed again, never pushed again, held an hour) {states} once " +
            "their hold is over, expected each Cancelled: " +
            "the next push of the key (PushedAgain) or the rescue pass (NeverAgain) deleted a job the cancel keeps");
        Assert.NotEqual(pushedAgain, again.Id);

        // Retried once the hold is over, the job whose key no other job holds takes it back.
        Assert.Equal(1, await host.Admin.RetryAsync(JobSelection.Ids(neverAgain)));
        Assert.Equal(new JobPushResult(neverAgain, false), await host.Queue.TryPushAsync(new AdminBrieflyHeldJob(2), new JobOptions { DelayUntil = Later }));
    }
}
