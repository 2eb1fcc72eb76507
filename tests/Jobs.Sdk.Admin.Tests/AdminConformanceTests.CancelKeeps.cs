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
}
