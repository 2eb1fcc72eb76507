using Jobs.Sdk.Drivers;
using Xunit;

namespace Jobs.Sdk.Testing;

/// <content>Attempts count when the handler starts (issue 13, finding 5).</content>
public abstract partial class JobDriverConformanceTests
{
    [Fact]
    public async Task A_claim_rescued_before_its_handler_started_gives_its_attempt_back()
    {
        var d = await DriverAsync(new RetentionPolicy { FailedJobs = Retain.Yes });
        var running = Record(1, JobPriority.Highest, maxAttempts: 1);
        var prefetched = Record(2, JobPriority.Lowest, maxAttempts: 1);
        await d.PushAsync([running, prefetched], null, default);
        var claimed = await ClaimRequestAsync(d, new JobClaimRequest("dead", 2, ShortLease) { StartingNow = 1 });
        Assert.Equal([running.Id, prefetched.Id], claimed.Select(c => c.Id));
        Assert.Equal([1, 1], claimed.Select(c => c.Attempt));
        Assert.NotNull((await InfoAsync(d, running.Id)).StartedAt);
        Assert.Null((await InfoAsync(d, prefetched.Id)).StartedAt);

        await ExpireLeaseAsync(d, running.Id);
        await ExpireLeaseAsync(d, prefetched.Id);
        Assert.Equal(2, await d.RescueExpiredLeasesAsync(default));

        Assert.Equal(JobState.Failed, (await InfoAsync(d, running.Id)).State); // its handler started: its one attempt is used
        var p = await InfoAsync(d, prefetched.Id);
        Assert.Equal((JobState.Retrying, 0, null), (p.State, p.Attempts, p.LastError));
        Assert.Empty(p.Errors);
        var again = Assert.Single(await ClaimAsync(d, "w2"));
        Assert.Equal((prefetched.Id, 1), (again.Id, again.Attempt));
        Assert.NotNull((await InfoAsync(d, prefetched.Id)).StartedAt);
    }

    [Fact]
    public async Task A_renewal_records_the_start_of_a_prefetched_claim_and_its_attempt_then_counts()
    {
        var d = await DriverAsync(new RetentionPolicy { FailedJobs = Retain.Yes });
        var r = Record(1, maxAttempts: 1);
        await d.PushAsync([r], null, default);
        var claim = Assert.Single(await ClaimRequestAsync(d, new JobClaimRequest("w", 1, ShortLease) { StartingNow = 0 }));
        Assert.Null((await InfoAsync(d, r.Id)).StartedAt);

        // A minute, not a couple of seconds: on a real clock the start must land before `before` however late the renewal
        // reaches the store on a loaded machine.
        var before = Now;
        await d.RenewLeasesAsync("w", [new JobLease(claim.Id, claim.LeaseToken) { RunningFor = Minute }], ShortLease, default);
        var started = (await InfoAsync(d, r.Id)).StartedAt;
        Assert.NotNull(started);
        Assert.True(started <= before, "the start is the renewal time minus how long the handler had run");

        // A later renewal does not move it.
        await d.RenewLeasesAsync("w", [new JobLease(claim.Id, claim.LeaseToken) { RunningFor = TimeSpan.Zero }], ShortLease, default);
        Assert.Equal(started, (await InfoAsync(d, r.Id)).StartedAt);

        await ExpireLeaseAsync(d, r.Id);
        Assert.Equal(1, await d.RescueExpiredLeasesAsync(default));
        Assert.Equal(JobState.Failed, (await InfoAsync(d, r.Id)).State);
    }

    [Fact]
    public async Task An_outcome_records_the_start_of_a_prefetched_claim_that_ran_before_any_renewal()
    {
        var d = await DriverAsync(new RetentionPolicy { CompletedJobs = Retain.Yes });
        var r = Record(1);
        await d.PushAsync([r], null, default);
        Assert.Single(await ClaimRequestAsync(d, new JobClaimRequest("w", 1, Minute) { StartingNow = 0 }));
        await d.CompleteAsync("w", [Outcome(r.Id, JobOutcomeKind.Completed, 1)], default);
        var info = await InfoAsync(d, r.Id);
        Assert.Equal(JobState.Completed, info.State);
        Assert.NotNull(info.StartedAt);
    }
}
