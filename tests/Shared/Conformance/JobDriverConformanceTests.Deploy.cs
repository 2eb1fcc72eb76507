using System.Text;
using Jobs.Sdk.Drivers;
using Xunit;

namespace Jobs.Sdk.Testing;

/// <content>
/// Issue 13 rules: sticky cancel, claims filtered by job name, counts by name, per-attempt error history, cleanup that
/// leaves live leases alone (a rerun) or removes their jobs only when their attempt ends (a remove).
/// </content>
public abstract partial class JobDriverConformanceTests
{
    // ------------------------------------------------------------------ sticky cancel

    [Theory]
    [InlineData(JobOutcomeKind.Retry)]
    [InlineData(JobOutcomeKind.Reschedule)]
    [InlineData(JobOutcomeKind.Release)]
    [InlineData(JobOutcomeKind.Failed)]
    public async Task Once_cancel_is_requested_a_requeueing_outcome_ends_the_job_cancelled(JobOutcomeKind kind)
    {
        var d = await DriverAsync(new RetentionPolicy { CancelledJobs = Retain.Yes });
        var r = Record(1);
        await d.PushAsync([r], null, default);
        Assert.Single(await ClaimRequestAsync(d, new JobClaimRequest("w", 1, Minute)));
        Assert.True(await d.CancelAsync(r.Id, default));

        await d.CompleteAsync("w", [Outcome(r.Id, kind, 1, TimeSpan.Zero, 1, Error: "wrapped")], default);

        var info = await InfoAsync(d, r.Id);
        Assert.Equal(JobState.Cancelled, info.State);
        Assert.NotNull(info.FinishedAt);
        Assert.Empty(await ClaimRequestAsync(d, new JobClaimRequest("w2", 5, Minute)));
    }

    [Fact]
    public async Task A_cancel_requested_job_whose_lease_expires_is_rescued_as_cancelled()
    {
        var d = await DriverAsync(new RetentionPolicy { CancelledJobs = Retain.Yes });
        var r = Record(1);
        await d.PushAsync([r], null, default);
        Assert.Single(await ClaimRequestAsync(d, new JobClaimRequest("dead", 1, ShortLease)));
        Assert.True(await d.CancelAsync(r.Id, default));
        await ExpireLeaseAsync(d, r.Id);

        Assert.Equal(1, await d.RescueExpiredLeasesAsync(default));
        Assert.Equal(JobState.Cancelled, (await InfoAsync(d, r.Id)).State);
        Assert.Empty(await ClaimRequestAsync(d, new JobClaimRequest("w2", 5, Minute)));
    }

    [Fact]
    public async Task A_cancel_requested_job_that_succeeds_completes()
    {
        var d = await DriverAsync(new RetentionPolicy { CompletedJobs = Retain.Yes });
        var r = Record(1);
        await d.PushAsync([r], null, default);
        Assert.Single(await ClaimRequestAsync(d, new JobClaimRequest("w", 1, Minute)));
        Assert.True(await d.CancelAsync(r.Id, default));
        await d.CompleteAsync("w", [Outcome(r.Id, JobOutcomeKind.Completed, 1)], default);
        Assert.Equal(JobState.Completed, (await InfoAsync(d, r.Id)).State);
    }

    // ------------------------------------------------------------------ names

    [Fact]
    public async Task Claim_takes_only_the_names_the_worker_handles_and_counts_the_rest_by_name()
    {
        var d = await DriverAsync();
        var known = Record(1, JobPriority.Lowest);
        // Due a minute ago: waiting names list jobs due for longer than asked, and a fake clock does not move by itself.
        var unknown = Named("newer.version.job", 2, JobPriority.Highest) with { RunAt = Now.AddMinutes(-1) };
        await d.PushAsync([unknown, known], null, default);

        var claimed = await ClaimRequestAsync(d, new JobClaimRequest("old", 5, Minute) { JobNames = [ValueJob.JobName] });
        Assert.Equal([known.Id], claimed.Select(c => c.Id));
        Assert.Equal(JobState.Pending, (await InfoAsync(d, unknown.Id)).State);

        var byName = await d.GetCountsByNameAsync(default);
        Assert.Equal(1, byName.Single(n => n.Name == "newer.version.job").Counts.Pending);
        Assert.Equal(1, byName.Single(n => n.Name == ValueJob.JobName).Counts.Processing);

        var overdue = await d.GetWaitingNamesAsync(TimeSpan.Zero, default);
        var waiting = Assert.Single(overdue);
        Assert.Equal(("newer.version.job", 1L), (waiting.Name, waiting.Count));
        Assert.True(waiting.OldestRunAt <= Now);
        Assert.Empty(await d.GetWaitingNamesAsync(TimeSpan.FromHours(1), default));

        // A worker without a name list takes everything (the previous behaviour).
        Assert.Equal([unknown.Id], (await ClaimRequestAsync(d, new JobClaimRequest("new", 5, Minute))).Select(c => c.Id));
    }

    // ------------------------------------------------------------------ error history

    [Fact]
    public async Task Errors_are_kept_per_attempt_and_the_last_error_is_cleared_by_success()
    {
        var d = await DriverAsync(new RetentionPolicy { CompletedJobs = Retain.Yes });
        var r = Record(1);
        await d.PushAsync([r], null, default);
        Assert.Single(await ClaimRequestAsync(d, new JobClaimRequest("w", 1, Minute)));
        await d.CompleteAsync("w", [Outcome(r.Id, JobOutcomeKind.Retry, 1, TimeSpan.Zero, 2, "E: first")], default);
        Assert.Single(await ClaimRequestAsync(d, new JobClaimRequest("w", 1, Minute)));
        await d.CompleteAsync("w", [Outcome(r.Id, JobOutcomeKind.Retry, 2, TimeSpan.Zero, 3, "E: second")], default);

        var retrying = await InfoAsync(d, r.Id);
        Assert.Equal("E: second", retrying.LastError);
        Assert.Equal([(1, "E: first"), (2, "E: second")], retrying.Errors.Select(e => (e.Attempt, e.Error)));
        Assert.All(retrying.Errors, e => Assert.InRange(e.At, Now.AddMinutes(-5), Now.AddMinutes(5)));

        Assert.Single(await ClaimRequestAsync(d, new JobClaimRequest("w", 1, Minute)));
        await d.CompleteAsync("w", [Outcome(r.Id, JobOutcomeKind.Completed, 3)], default);
        var done = await InfoAsync(d, r.Id);
        Assert.Null(done.LastError);
        Assert.Equal([1, 2], done.Errors.Select(e => e.Attempt));
    }

    [Fact]
    public async Task Error_history_is_bounded_to_the_latest_attempts()
    {
        var d = await DriverAsync();
        var r = Record(1, maxAttempts: 100);
        await d.PushAsync([r], null, default);
        for (var attempt = 1; attempt <= 25; attempt++)
        {
            Assert.Single(await ClaimRequestAsync(d, new JobClaimRequest("w", 1, Minute)));
            await d.CompleteAsync("w", [Outcome(r.Id, JobOutcomeKind.Retry, attempt, TimeSpan.Zero, attempt + 1, $"E: {attempt}")], default);
        }

        var info = await InfoAsync(d, r.Id);
        Assert.Equal(Enumerable.Range(6, 20), info.Errors.Select(e => e.Attempt));
    }

    // ------------------------------------------------------------------ cleanup

    [Fact]
    public async Task Cleanup_rerun_of_processing_jobs_leaves_live_leases_alone()
    {
        var d = await DriverAsync();
        var live = Record(1);
        var dead = Record(2);
        await d.PushAsync([live], null, default);
        Assert.Single(await ClaimRequestAsync(d, new JobClaimRequest("alive", 1, Minute)));
        await d.PushAsync([dead], null, default);
        Assert.Single(await ClaimRequestAsync(d, new JobClaimRequest("dead", 1, ShortLease)));
        await ExpireLeaseAsync(d, dead.Id);

        await d.CleanupAsync(new CleanupOptions { ProcessingJobs = CleanupAction.Rerun }, default);

        var info = await InfoAsync(d, live.Id);
        Assert.Equal((JobState.Processing, "alive", 1), (info.State, info.WorkerId, info.Attempts));
        Assert.Equal(JobState.Pending, (await InfoAsync(d, dead.Id)).State);
        // The live worker's outcome still applies.
        await d.CompleteAsync("alive", [Outcome(live.Id, JobOutcomeKind.Completed, 1)], default);
        Assert.Null(await d.GetJobAsync(live.Id, default));
    }

    [Fact]
    public async Task Cleanup_remove_of_processing_jobs_deletes_a_dead_workers_at_once_and_a_live_ones_when_its_attempt_ends()
    {
        var d = await DriverAsync(new RetentionPolicy { CompletedJobs = Retain.Yes, FailedJobs = Retain.Yes, CancelledJobs = Retain.Yes });
        var live = Keyed(1, "k");
        var waiting = Keyed(2, "k");
        var dead = Record(3);
        await d.PushAsync([live], null, default);
        Assert.Single(await ClaimRequestAsync(d, new JobClaimRequest("alive", 1, Minute)));
        await d.PushAsync([dead], null, default);
        Assert.Single(await ClaimRequestAsync(d, new JobClaimRequest("dead", 1, ShortLease)));
        await d.PushAsync([waiting], null, default);
        await ExpireLeaseAsync(d, dead.Id);

        await d.CleanupAsync(new CleanupOptions { ProcessingJobs = CleanupAction.Remove }, default);

        // The dead worker's job is gone at once, as the lease rescue would remove it.
        Assert.Null(await d.GetJobAsync(dead.Id, default));
        // The live worker's job keeps running, and its slot in its key's line (limit 1) while its handler runs.
        var info = await d.GetJobAsync(live.Id, default);
        Assert.True(info is { State: JobState.Processing, WorkerId: "alive" },
            $"A cleanup removing processing jobs left a live worker's running job {info?.State.ToString() ?? "gone"}: it runs on until its attempt ends.");
        Assert.Empty(await ClaimAsync(d, "other"));
        // Its worker is told to stop (at its renewal here; the driver tells its own workers at once), and keeps the claim.
        var renewal = await d.RenewLeasesAsync("alive", Leases(live.Id), Minute, default);
        Assert.Equal([live.Id], renewal.CancelRequested.Select(l => l.Id));
        Assert.Empty(renewal.Lost);
        // A second pass leaves it as it is.
        await d.CleanupAsync(new CleanupOptions { ProcessingJobs = CleanupAction.Remove }, default);
        Assert.Equal(JobState.Processing, (await InfoAsync(d, live.Id)).State);

        // Its outcome, whatever it is, removes it (retention keeps completed jobs), and frees the key's slot.
        await d.CompleteAsync("alive", [Outcome(live.Id, JobOutcomeKind.Completed, 1)], default);
        Assert.Null(await d.GetJobAsync(live.Id, default));
        Assert.Equal([waiting.Id], (await ClaimAsync(d, "other")).Select(c => c.Id));
    }

    private static JobPushRecord Named(string name, int value, JobPriority priority = JobPriority.Normal) => new()
    {
        Id = JobId.New(),
        Name = name,
        Payload = Encoding.UTF8.GetBytes($"{{\"value\":{value}}}"),
        Priority = priority,
    };
}
