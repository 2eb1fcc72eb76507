using System.Collections.Concurrent;
using System.Text;
using Jobs.Sdk.Drivers;
using Xunit;

namespace Jobs.Sdk.Testing;

/// <summary>
/// The <see cref="IJobDriver"/> contract, stated once: claim order, delays, priorities, cancel/pause/resume in every
/// state, ownership of outcomes, leases, rescue, retention, cleanup and counts. Every driver's test project derives one
/// concrete class from it; a new driver must pass it unchanged.
/// </summary>
/// <remarks>
/// <para>Ties of priority and run time are broken by id on every driver (ids made later sort after).</para>
/// No test waits for time to pass: leases the tests want expired are granted with <see cref="ShortLease"/> and ended by
/// <see cref="ExpireLeaseAsync"/>; leases of <see cref="Minute"/> or more stay valid for the whole test.
/// </remarks>
public abstract partial class JobDriverConformanceTests : IAsyncLifetime
{
    /// <summary>A lease that stays valid for the whole test.</summary>
    protected static readonly TimeSpan Minute = TimeSpan.FromMinutes(1);

    /// <summary>
    /// A lease the test will end with <see cref="ExpireLeaseAsync"/>, and that must not run out before: tests check that
    /// nothing is rescued yet. On a fake clock it runs out only when the test moves the clock; a driver on a real clock
    /// grants one far longer than any test (however loaded the machine), as its <see cref="ExpireLeaseAsync"/> ends it.
    /// </summary>
    protected abstract TimeSpan ShortLease { get; }

    private readonly List<IJobDriver> _drivers = [];

    /// <summary>A new driver on a queue of its own, empty and ready.</summary>
    protected abstract Task<IJobDriver> CreateDriverAsync(RetentionPolicy retention);

    /// <summary>Makes the lease of <paramref name="id"/> (granted with <see cref="ShortLease"/>) expired, on the driver's clock.</summary>
    protected abstract Task ExpireLeaseAsync(IJobDriver driver, JobId id);

    /// <summary>The current time on the driver's clock.</summary>
    protected abstract DateTimeOffset Now { get; }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var driver in _drivers)
        {
            await driver.DisposeAsync();
        }
    }

    protected async Task<IJobDriver> DriverAsync(RetentionPolicy? retention = null)
    {
        var driver = await CreateDriverAsync(retention ?? new RetentionPolicy());
        _drivers.Add(driver);
        return driver;
    }

    protected static JobPushRecord Record(int value, JobPriority priority = JobPriority.Normal, DateTimeOffset? runAt = null, int maxAttempts = 4,
        IReadOnlyDictionary<string, string>? headers = null, JobId? id = null) => new()
    {
        Id = id ?? JobId.New(),
        Name = ValueJob.JobName,
        Payload = Encoding.UTF8.GetBytes($"{{\"value\":{value}}}"),
        Priority = priority,
        RunAt = runAt,
        MaxAttempts = maxAttempts,
        Headers = headers,
    };

    /// <summary>Each job's latest lease token; concurrent because some tests claim from several tasks at once.</summary>
    private readonly ConcurrentDictionary<JobId, Guid> _tokens = new();

    /// <summary>Claims and remembers each job's lease token (the latest claim) for <see cref="Outcome"/> and <see cref="Leases"/>.</summary>
    private Task<IReadOnlyList<ClaimedJob>> ClaimAsync(IJobDriver d, string worker, int max = 10, TimeSpan? lease = null)
        => ClaimRequestAsync(d, new JobClaimRequest(worker, max, lease ?? Minute));

    private async Task<IReadOnlyList<ClaimedJob>> ClaimRequestAsync(IJobDriver d, JobClaimRequest request)
    {
        var claimed = await d.ClaimAsync(request, default);
        foreach (var job in claimed)
        {
            Assert.NotEqual(Guid.Empty, job.LeaseToken);
            _tokens[job.Id] = job.LeaseToken;
        }

        return claimed;
    }

    /// <summary>An outcome for the latest claim of <paramref name="id"/> (a fresh token when it was never claimed here).</summary>
    private JobOutcome Outcome(JobId id, JobOutcomeKind kind, int attempt, TimeSpan delay = default, int NextAttempt = 0, string? Error = null)
        => new(id, kind, attempt, delay, NextAttempt, Error, _tokens.TryGetValue(id, out var token) ? token : Guid.NewGuid());

    /// <summary>The latest claims of <paramref name="ids"/> (a fresh token for a job never claimed here).</summary>
    private List<JobLease> Leases(params JobId[] ids) => ids.Select(id => new JobLease(id, _tokens.TryGetValue(id, out var t) ? t : Guid.NewGuid())).ToList();

    private static async Task<JobInfo> InfoAsync(IJobDriver d, JobId id) => (await d.GetJobAsync(id, default))!;

    // ------------------------------------------------------------------ claim order, delay, priority

    [Fact]
    public async Task Claim_orders_by_priority_then_run_at_and_takes_only_due_jobs()
    {
        var d = await DriverAsync();
        var now = Now;
        var low = Record(1, JobPriority.Lowest, now.AddSeconds(-30));
        var high = Record(2, JobPriority.Highest);
        var normalOld = Record(3, JobPriority.Normal, now.AddSeconds(-20));
        var normalNew = Record(4, JobPriority.Normal, now.AddSeconds(-10));
        var future = Record(5, JobPriority.Highest, now.AddHours(1));
        await d.PushAsync([low, high, normalOld, normalNew, future], null, default);
        var claimed = await ClaimAsync(d, "w1");
        Assert.Equal([high.Id, normalOld.Id, normalNew.Id, low.Id], claimed.Select(c => c.Id));
        Assert.All(claimed, c => Assert.Equal(1, c.Attempt));
        var info = await InfoAsync(d, high.Id);
        Assert.Equal((JobState.Processing, "w1", 1), (info.State, info.WorkerId, info.Attempts));
        Assert.Empty(await ClaimAsync(d, "w2"));
    }

    [Fact]
    public async Task Claim_takes_at_most_the_requested_number_in_order()
    {
        var d = await DriverAsync();
        var records = Enumerable.Range(0, 5).Select(i => Record(i, (JobPriority)(i % 5))).ToList();
        await d.PushAsync(records, null, default);
        var first = await ClaimAsync(d, "w", max: 2);
        Assert.Equal(records.OrderByDescending(r => r.Priority).Take(2).Select(r => r.Id), first.Select(c => c.Id));
        Assert.Equal(3, (await ClaimAsync(d, "w", max: 10)).Count);
        Assert.Empty(await ClaimAsync(d, "w", max: 0));
    }

    [Fact]
    public async Task A_priority_outside_JobPriority_is_refused_at_push_and_nothing_of_the_batch_is_stored()
    {
        var d = await DriverAsync();
        var ex = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => d.PushAsync([Record(1), Record(2, (JobPriority)7)], null, default));
        Assert.Contains("not a JobPriority value", ex.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => d.PushAsync([Record(3, (JobPriority)(-1))], null, default));
        Assert.Equal(0, (await d.GetCountsAsync(default)).Pending);
    }

    [Fact]
    public async Task Delay_beats_priority_and_a_delayed_job_counts_as_pending()
    {
        var d = await DriverAsync();
        var delayed = Record(1, JobPriority.Highest, Now.AddHours(1));
        var due = Record(2, JobPriority.Lowest);
        await d.PushAsync([delayed, due], null, default);
        Assert.Equal(2, (await d.GetCountsAsync(default)).Pending);
        Assert.Equal([due.Id], (await ClaimAsync(d, "w")).Select(c => c.Id));
        var info = await InfoAsync(d, delayed.Id);
        Assert.Equal((JobState.Pending, 0), (info.State, info.Attempts));
        Assert.True(info.RunAt > Now.AddMinutes(50));
    }

    [Fact]
    public async Task Claimed_job_carries_payload_headers_limits_and_times()
    {
        var d = await DriverAsync();
        var record = Record(1, headers: new Dictionary<string, string> { ["traceparent"] = "00-abc-def-01", [JobHeaders.ScheduledAt] = "2026-01-01T00:00:00Z" });
        await d.PushAsync([record], null, default);
        var job = Assert.Single(await ClaimAsync(d, "w", 1));
        Assert.Equal("00-abc-def-01", job.Headers!["traceparent"]);
        Assert.Equal("2026-01-01T00:00:00Z", job.Headers[JobHeaders.ScheduledAt]);
        Assert.Equal((ValueJob.JobName, 4, JobPriority.Normal), (job.Name, job.MaxAttempts, job.Priority));
        Assert.True(job.QueuedAt <= job.RunAt.AddSeconds(1));
        Assert.Equal(new ValueJob(1), ValueJob.Deserialize(job.Payload.Span));
    }

    [Fact]
    public async Task Never_the_same_job_to_two_concurrent_claimers()
    {
        var d = await DriverAsync();
        var records = Enumerable.Range(0, 500).Select(i => Record(i)).ToList();
        await d.PushAsync(records, null, default);
        var all = await Task.WhenAll(Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
        {
            var mine = new List<JobId>();
            while (true)
            {
                var batch = await ClaimAsync(d, "w" + w, 7);
                if (batch.Count == 0)
                {
                    return mine;
                }

                mine.AddRange(batch.Select(b => b.Id));
            }
        })));
        var ids = all.SelectMany(x => x).ToList();
        Assert.Equal(500, ids.Count);
        Assert.Equal(records.Select(r => r.Id).ToHashSet(), ids.ToHashSet());
    }

    // ------------------------------------------------------------------ outcomes

    [Fact]
    public async Task Completion_applies_only_to_the_owning_worker_and_claim()
    {
        var d = await DriverAsync(new RetentionPolicy { CompletedJobs = Retain.Yes });
        var r = Record(1);
        await d.PushAsync([r], null, default);
        var job = Assert.Single(await ClaimAsync(d, "owner", 1));
        await d.CompleteAsync("intruder", [Outcome(job.Id, JobOutcomeKind.Completed, 1)], default);
        Assert.Equal(JobState.Processing, (await InfoAsync(d, r.Id)).State);
        await d.CompleteAsync("owner", [new JobOutcome(job.Id, JobOutcomeKind.Completed, 1, LeaseToken: Guid.NewGuid())], default);
        Assert.Equal(JobState.Processing, (await InfoAsync(d, r.Id)).State);
        await d.CompleteAsync("owner", [new JobOutcome(job.Id, JobOutcomeKind.Completed, 1)], default);
        Assert.Equal(JobState.Processing, (await InfoAsync(d, r.Id)).State);
        await d.CompleteAsync("owner", [Outcome(job.Id, JobOutcomeKind.Completed, 1)], default);
        var done = await InfoAsync(d, r.Id);
        Assert.Equal(JobState.Completed, done.State);
        Assert.NotNull(done.FinishedAt);
        // A second report (retried after a lost reply) changes nothing.
        await d.CompleteAsync("owner", [Outcome(job.Id, JobOutcomeKind.Failed, 1, Error: "late")], default);
        var info = await InfoAsync(d, r.Id);
        Assert.Equal(JobState.Completed, info.State);
        Assert.Null(info.LastError);
    }

    [Fact]
    public async Task A_late_report_of_an_earlier_claim_changes_nothing_even_when_the_attempt_numbers_coincide()
    {
        var d = await DriverAsync(new RetentionPolicy { CompletedJobs = Retain.Yes });
        var released = Record(1, JobPriority.Highest);
        var rescheduled = Record(2, JobPriority.Lowest);
        await d.PushAsync([released, rescheduled], null, default);
        var first = await ClaimAsync(d, "w", 2);
        var early = first.ToDictionary(c => c.Id, c => c.LeaseToken);
        await d.CompleteAsync("w", [
            Outcome(released.Id, JobOutcomeKind.Release, 1),
            Outcome(rescheduled.Id, JobOutcomeKind.Reschedule, 1, NextAttempt: 1)], default);
        // Both jobs are claimed again by the same worker, as attempt 1 again.
        var second = await ClaimAsync(d, "w", 2);
        Assert.Equal(2, second.Count);
        Assert.All(second, c => Assert.Equal(1, c.Attempt));
        Assert.All(second, c => Assert.NotEqual(early[c.Id], c.LeaseToken));

        // A replay of the first claim's reports (same worker, same attempt number) changes nothing, nor does a renewal of it.
        var late = second.Select(c => new JobOutcome(c.Id, JobOutcomeKind.Failed, 1, Error: "late", LeaseToken: early[c.Id])).ToList();
        await d.CompleteAsync("w", late, default);
        Assert.Equal(2, (await d.RenewLeasesAsync("w", second.Select(c => new JobLease(c.Id, early[c.Id])).ToList(), Minute, default)).Lost.Count);
        foreach (var c in second)
        {
            var info = await InfoAsync(d, c.Id);
            Assert.Equal((JobState.Processing, (string?)null), (info.State, info.LastError));
        }

        // The current claim's report applies; replaying it afterwards changes nothing either.
        var current = second.Select(c => new JobOutcome(c.Id, JobOutcomeKind.Completed, 1, LeaseToken: c.LeaseToken)).ToList();
        await d.CompleteAsync("w", current, default);
        await d.CompleteAsync("w", current, default);
        Assert.Equal(new JobCounts { Completed = 2 }, await d.GetCountsAsync(default));
    }

    [Fact]
    public async Task Another_workers_report_changes_nothing_for_any_outcome_kind()
    {
        var d = await DriverAsync();
        var records = Enumerable.Range(0, 6).Select(i => Record(i)).ToList();
        await d.PushAsync(records, null, default);
        Assert.Equal(6, (await ClaimAsync(d, "owner")).Count);
        var kinds = Enum.GetValues<JobOutcomeKind>();
        await d.CompleteAsync("intruder", records.Select((r, i) => Outcome(r.Id, kinds[i % kinds.Length], 1, Error: "x")).ToList(), default);
        Assert.Equal(new JobCounts { Processing = 6 }, await d.GetCountsAsync(default));
        foreach (var r in records)
        {
            var info = await InfoAsync(d, r.Id);
            Assert.Equal((JobState.Processing, "owner", (string?)null), (info.State, info.WorkerId, info.LastError));
        }
    }

    [Fact]
    public async Task Retry_keeps_priority_stores_the_error_and_runs_again_as_the_next_attempt()
    {
        var d = await DriverAsync();
        var now = Record(1, JobPriority.Higher);
        var later = Record(2, JobPriority.Lower);
        await d.PushAsync([now, later], null, default);
        await ClaimAsync(d, "w");
        await d.CompleteAsync("w", [
            Outcome(now.Id, JobOutcomeKind.Retry, 1, Error: "boom"),
            Outcome(later.Id, JobOutcomeKind.Retry, 1, TimeSpan.FromHours(1), Error: "later")], default);
        var a = await InfoAsync(d, now.Id);
        var b = await InfoAsync(d, later.Id);
        Assert.Equal((JobState.Retrying, 1, JobPriority.Higher, "boom"), (a.State, a.Attempts, a.Priority, a.LastError));
        Assert.Equal((JobState.Retrying, 1, JobPriority.Lower, "later"), (b.State, b.Attempts, b.Priority, b.LastError));
        Assert.True(b.RunAt > Now.AddMinutes(50));
        Assert.Equal(new JobCounts { Retrying = 2 }, await d.GetCountsAsync(default));
        var again = Assert.Single(await ClaimAsync(d, "w"));
        Assert.Equal((now.Id, 2), (again.Id, again.Attempt));
    }

    [Fact]
    public async Task Release_and_reschedule_adjust_attempts_and_keep_priority()
    {
        var d = await DriverAsync();
        var a = Record(1, JobPriority.Higher);
        var b = Record(2, JobPriority.Lower);
        await d.PushAsync([a, b], null, default);
        var claimed = await ClaimAsync(d, "w", 2);
        await d.CompleteAsync("w", [
            Outcome(a.Id, JobOutcomeKind.Release, 1),
            Outcome(b.Id, JobOutcomeKind.Reschedule, 1, TimeSpan.FromHours(1), NextAttempt: 1)], default);
        var ia = await InfoAsync(d, a.Id);
        var ib = await InfoAsync(d, b.Id);
        Assert.Equal((JobState.Pending, 0, JobPriority.Higher), (ia.State, ia.Attempts, ia.Priority));
        Assert.Equal((JobState.Pending, 0, JobPriority.Lower), (ib.State, ib.Attempts, ib.Priority));
        Assert.True(ib.RunAt > Now.AddMinutes(50));
        Assert.Equal(2, claimed.Count);
        // Released job is due again at once; the rescheduled one is not.
        var again = Assert.Single(await ClaimAsync(d, "w", 5));
        Assert.Equal((a.Id, 1), (again.Id, again.Attempt));
    }

    [Fact]
    public async Task Failed_and_cancelled_outcomes_finish_the_job_with_the_error()
    {
        var d = await DriverAsync(new RetentionPolicy { FailedJobs = Retain.Yes, CancelledJobs = Retain.Yes });
        var f = Record(1);
        var c = Record(2);
        await d.PushAsync([f, c], null, default);
        await ClaimAsync(d, "w");
        await d.CompleteAsync("w", [Outcome(f.Id, JobOutcomeKind.Failed, 1, Error: "bad"), Outcome(c.Id, JobOutcomeKind.Cancelled, 1)], default);
        var fi = await InfoAsync(d, f.Id);
        var ci = await InfoAsync(d, c.Id);
        Assert.Equal((JobState.Failed, "bad"), (fi.State, fi.LastError));
        Assert.Equal(JobState.Cancelled, ci.State);
        Assert.NotNull(fi.FinishedAt);
        Assert.NotNull(ci.FinishedAt);
        Assert.Empty(await ClaimAsync(d, "w"));
    }

    // ------------------------------------------------------------------ cancel, pause, resume in every state

    [Fact]
    public async Task Cancel_in_every_state()
    {
        var d = await DriverAsync(new RetentionPolicy { CompletedJobs = Retain.Yes, FailedJobs = Retain.Yes, CancelledJobs = Retain.Yes });
        var jobs = await JobsInEveryStateAsync(d);

        foreach (var state in new[] { JobState.Pending, JobState.Retrying, JobState.Paused })
        {
            Assert.True(await d.CancelAsync(jobs[state], default), $"cancel {state}");
            var info = await InfoAsync(d, jobs[state]);
            Assert.Equal(JobState.Cancelled, info.State);
            Assert.NotNull(info.FinishedAt);
        }

        // A running job stays with its worker, which learns of the request at lease renewal.
        Assert.True(await d.CancelAsync(jobs[JobState.Processing], default));
        Assert.Equal(JobState.Processing, (await InfoAsync(d, jobs[JobState.Processing])).State);
        Assert.Equal([jobs[JobState.Processing]], (await d.RenewLeasesAsync("w", Leases(jobs[JobState.Processing]), Minute, default)).CancelRequested.Select(l => l.Id));

        foreach (var state in new[] { JobState.Completed, JobState.Failed, JobState.Cancelled })
        {
            Assert.False(await d.CancelAsync(jobs[state], default), $"cancel {state}");
            Assert.Equal(state, (await InfoAsync(d, jobs[state])).State);
        }

        Assert.False(await d.CancelAsync(JobId.New(), default));
        Assert.Empty(await ClaimAsync(d, "w"));
    }

    [Fact]
    public async Task Cancelled_waiting_jobs_are_dropped_by_default_and_never_claimed()
    {
        var d = await DriverAsync();
        var cancelled = Record(1, JobPriority.Lower);
        var other = Record(2, JobPriority.Highest);
        await d.PushAsync([cancelled, other], null, default);
        Assert.True(await d.CancelAsync(cancelled.Id, default));
        Assert.False(await d.CancelAsync(cancelled.Id, default));
        Assert.Null(await d.GetJobAsync(cancelled.Id, default));
        Assert.Equal(new JobCounts { Pending = 1 }, await d.GetCountsAsync(default));
        Assert.Equal([other.Id], (await ClaimAsync(d, "w")).Select(c => c.Id));
    }

    [Fact]
    public async Task Pause_in_every_state()
    {
        var d = await DriverAsync(new RetentionPolicy { CompletedJobs = Retain.Yes, FailedJobs = Retain.Yes, CancelledJobs = Retain.Yes });
        var jobs = await JobsInEveryStateAsync(d);
        Assert.True(await d.PauseAsync(jobs[JobState.Pending], default));
        Assert.True(await d.PauseAsync(jobs[JobState.Retrying], default));
        foreach (var state in new[] { JobState.Processing, JobState.Completed, JobState.Failed, JobState.Cancelled, JobState.Paused })
        {
            Assert.False(await d.PauseAsync(jobs[state], default), $"pause {state}");
            Assert.Equal(state, (await InfoAsync(d, jobs[state])).State);
        }

        Assert.False(await d.PauseAsync(JobId.New(), default));
        Assert.Equal(3, (await d.GetCountsAsync(default)).Paused);
    }

    [Fact]
    public async Task Resume_in_every_state_restores_the_state_before_the_pause()
    {
        var d = await DriverAsync(new RetentionPolicy { CompletedJobs = Retain.Yes, FailedJobs = Retain.Yes, CancelledJobs = Retain.Yes });
        var jobs = await JobsInEveryStateAsync(d);
        Assert.True(await d.PauseAsync(jobs[JobState.Retrying], default));
        foreach (var state in new[] { JobState.Pending, JobState.Processing, JobState.Completed, JobState.Failed, JobState.Cancelled })
        {
            Assert.False(await d.ResumeAsync(jobs[state], default), $"resume {state}");
            Assert.Equal(state, (await InfoAsync(d, jobs[state])).State);
        }

        Assert.True(await d.ResumeAsync(jobs[JobState.Paused], default));
        Assert.False(await d.ResumeAsync(jobs[JobState.Paused], default));
        Assert.Equal(JobState.Pending, (await InfoAsync(d, jobs[JobState.Paused])).State);
        Assert.True(await d.ResumeAsync(jobs[JobState.Retrying], default));
        Assert.Equal(JobState.Retrying, (await InfoAsync(d, jobs[JobState.Retrying])).State);
        Assert.False(await d.ResumeAsync(JobId.New(), default));
    }

    [Fact]
    public async Task Paused_jobs_are_not_claimed_until_resumed_and_keep_priority_and_run_time()
    {
        var d = await DriverAsync();
        var runAt = Now.AddSeconds(-1);
        var paused = Record(1, JobPriority.Highest, runAt);
        var normal = Record(2);
        await d.PushAsync([paused, normal], null, default);
        Assert.True(await d.PauseAsync(paused.Id, default));
        Assert.False(await d.PauseAsync(paused.Id, default));
        Assert.Equal(new JobCounts { Pending = 1, Paused = 1 }, await d.GetCountsAsync(default));
        Assert.Equal([normal.Id], (await ClaimAsync(d, "w")).Select(c => c.Id));

        Assert.True(await d.ResumeAsync(paused.Id, default));
        var info = await InfoAsync(d, paused.Id);
        Assert.Equal((JobState.Pending, JobPriority.Highest), (info.State, info.Priority));
        Assert.InRange((info.RunAt - runAt).Duration(), TimeSpan.Zero, TimeSpan.FromMilliseconds(1));
        Assert.Equal([paused.Id], (await ClaimAsync(d, "w")).Select(c => c.Id));
    }

    // ------------------------------------------------------------------ leases and rescue

    [Fact]
    public async Task Renew_leases_reports_lost_and_cancel_requested_jobs()
    {
        var d = await DriverAsync();
        var records = Enumerable.Range(0, 3).Select(i => Record(i)).ToList();
        await d.PushAsync(records, null, default);
        var claimed = await ClaimAsync(d, "w", 3, ShortLease);
        Assert.Equal(3, claimed.Count);
        Assert.Same(LeaseRenewalResult.None, await d.RenewLeasesAsync("w", claimed.Select(c => new JobLease(c.Id, c.LeaseToken)).ToList(), Minute, default));
        Assert.Same(LeaseRenewalResult.None, await d.RenewLeasesAsync("w", [], Minute, default));

        Assert.True(await d.CancelAsync(records[1].Id, default));
        await d.CompleteAsync("w", [Outcome(records[2].Id, JobOutcomeKind.Completed, 1)], default);
        var unknown = JobId.New();
        var result = await d.RenewLeasesAsync("w", Leases(records[0].Id, records[1].Id, records[2].Id, unknown), Minute, default);
        Assert.Equal(Leases(records[2].Id).Concat(result.Lost.Where(l => l.Id == unknown)).OrderBy(l => l.Id.Value), result.Lost.OrderBy(l => l.Id.Value));
        Assert.Contains(result.Lost, l => l.Id == unknown);
        Assert.Equal(Leases(records[1].Id), result.CancelRequested);
        var other = await d.RenewLeasesAsync("someone-else", Leases(records[0].Id), Minute, default);
        Assert.Equal(Leases(records[0].Id), other.Lost);
        // The right job with another claim's token is lost too (and its lease is not renewed).
        var stale = new JobLease(records[0].Id, Guid.NewGuid());
        Assert.Equal([stale], (await d.RenewLeasesAsync("w", [stale], Minute, default)).Lost);
    }

    [Fact]
    public async Task Renewed_lease_is_not_rescued()
    {
        var d = await DriverAsync();
        var r = Record(1);
        await d.PushAsync([r], null, default);
        await ClaimAsync(d, "w", 1, ShortLease);
        await ExpireLeaseAsync(d, r.Id);
        // Renewal after expiry but before a rescue still wins: the job stays with its worker.
        Assert.Same(LeaseRenewalResult.None, await d.RenewLeasesAsync("w", Leases(r.Id), Minute, default));
        Assert.Equal(0, await d.RescueExpiredLeasesAsync(default));
        Assert.Equal(JobState.Processing, (await InfoAsync(d, r.Id)).State);
    }

    [Fact]
    public async Task Rescue_requeues_expired_leases_keeping_priority_or_fails_when_attempts_are_used_up()
    {
        var d = await DriverAsync(new RetentionPolicy { FailedJobs = Retain.Yes });
        var retry = Record(1, JobPriority.Highest, maxAttempts: 3);
        var last = Record(2, JobPriority.Lowest, maxAttempts: 1);
        var live = Record(3);
        await d.PushAsync([retry, last], null, default);
        Assert.Equal(2, (await ClaimAsync(d, "dead", 5, ShortLease)).Count);
        await d.PushAsync([live], null, default);
        Assert.Single(await ClaimAsync(d, "alive", 5, Minute));
        Assert.Equal(0, await d.RescueExpiredLeasesAsync(default));
        await ExpireLeaseAsync(d, retry.Id);
        await ExpireLeaseAsync(d, last.Id);

        Assert.Equal(2, await d.RescueExpiredLeasesAsync(default));
        var r = await InfoAsync(d, retry.Id);
        Assert.Equal((JobState.Retrying, 1, JobPriority.Highest), (r.State, r.Attempts, r.Priority));
        Assert.Contains("LeaseExpired: worker dead stopped renewing the lease of attempt 1", r.LastError, StringComparison.Ordinal);
        var l = await InfoAsync(d, last.Id);
        Assert.Equal(JobState.Failed, l.State);
        Assert.NotNull(l.FinishedAt);
        Assert.Equal(JobState.Processing, (await InfoAsync(d, live.Id)).State);

        // The dead worker's late report is ignored; the rescued job runs again as attempt 2.
        await d.CompleteAsync("dead", [Outcome(retry.Id, JobOutcomeKind.Completed, 1)], default);
        var again = Assert.Single(await ClaimAsync(d, "w2", 5));
        Assert.Equal((retry.Id, 2), (again.Id, again.Attempt));
        Assert.Equal(0, await d.RescueExpiredLeasesAsync(default));
    }

    [Fact]
    public async Task Rescue_applies_failed_retention()
    {
        var d = await DriverAsync(new RetentionPolicy { FailedJobs = Retain.No });
        var r = Record(1, maxAttempts: 1);
        await d.PushAsync([r], null, default);
        await ClaimAsync(d, "dead", 1, ShortLease);
        await ExpireLeaseAsync(d, r.Id);
        Assert.Equal(1, await d.RescueExpiredLeasesAsync(default));
        Assert.Null(await d.GetJobAsync(r.Id, default));
        Assert.Equal(new JobCounts(), await d.GetCountsAsync(default));
    }

    // ------------------------------------------------------------------ retention, cleanup, counts

    [Fact]
    public async Task Retention_keeps_what_the_policy_says_per_state()
    {
        var d = await DriverAsync(new RetentionPolicy { CompletedJobs = Retain.Yes, FailedJobs = Retain.No, CancelledJobs = Retain.No });
        var records = Enumerable.Range(0, 3).Select(i => Record(i)).ToList();
        await d.PushAsync(records, null, default);
        var claimed = await ClaimAsync(d, "w");
        await d.CompleteAsync("w",
        [
            Outcome(records[0].Id, JobOutcomeKind.Completed, 1),
            Outcome(records[1].Id, JobOutcomeKind.Failed, 1, Error: "x"),
            Outcome(records[2].Id, JobOutcomeKind.Cancelled, 1),
        ], default);
        Assert.Equal(3, claimed.Count);
        Assert.Equal(new JobCounts { Completed = 1 }, await d.GetCountsAsync(default));
        Assert.Null(await d.GetJobAsync(records[1].Id, default));
        Assert.Null(await d.GetJobAsync(records[2].Id, default));
    }

    [Fact]
    public async Task Default_retention_drops_completed_and_cancelled_and_keeps_failed()
    {
        var d = await DriverAsync();
        var records = Enumerable.Range(0, 3).Select(i => Record(i)).ToList();
        await d.PushAsync(records, null, default);
        await ClaimAsync(d, "w");
        await d.CompleteAsync("w",
        [
            Outcome(records[0].Id, JobOutcomeKind.Completed, 1),
            Outcome(records[1].Id, JobOutcomeKind.Failed, 1, Error: "x"),
            Outcome(records[2].Id, JobOutcomeKind.Cancelled, 1),
        ], default);
        Assert.Equal(new JobCounts { Failed = 1 }, await d.GetCountsAsync(default));
    }

    [Fact]
    public async Task Counts_cover_every_state()
    {
        var d = await DriverAsync(new RetentionPolicy { CompletedJobs = Retain.Yes, FailedJobs = Retain.Yes, CancelledJobs = Retain.Yes });
        Assert.Equal(new JobCounts(), await d.GetCountsAsync(default));
        await JobsInEveryStateAsync(d);
        var counts = await d.GetCountsAsync(default);
        Assert.Equal(new JobCounts { Pending = 1, Processing = 1, Retrying = 1, Completed = 1, Failed = 1, Cancelled = 1, Paused = 1 }, counts);
        foreach (var state in Enum.GetValues<JobState>())
        {
            Assert.Equal(1, counts[state]);
        }
    }

    [Fact]
    public async Task Cleanup_acts_on_each_state_independently()
    {
        var d = await DriverAsync(new RetentionPolicy { CompletedJobs = Retain.Yes, FailedJobs = Retain.Yes, CancelledJobs = Retain.Yes });
        var jobs = await JobsInEveryStateAsync(d);
        await d.CleanupAsync(new CleanupOptions(), default);
        Assert.Equal(7, Total(await d.GetCountsAsync(default)));

        await d.CleanupAsync(new CleanupOptions { ProcessingJobs = CleanupAction.Remove, PausedJobs = CleanupAction.Remove }, default);
        // The running job's worker is alive: it is removed when its attempt ends (its outcome deletes it).
        Assert.Equal(new JobCounts { Pending = 1, Processing = 1, Retrying = 1, Completed = 1, Failed = 1, Cancelled = 1 }, await d.GetCountsAsync(default));
        await d.CompleteAsync("w", [Outcome(jobs[JobState.Processing], JobOutcomeKind.Completed, 1)], default);
        Assert.Equal(new JobCounts { Pending = 1, Retrying = 1, Completed = 1, Failed = 1, Cancelled = 1 }, await d.GetCountsAsync(default));
        Assert.Null(await d.GetJobAsync(jobs[JobState.Processing], default));

        // Not old enough: kept. Then all of them.
        await d.CleanupAsync(new CleanupOptions { CompletedJobs = CleanupAction.RemoveOlderThan(TimeSpan.FromDays(1)) }, default);
        Assert.Equal(1, (await d.GetCountsAsync(default)).Completed);
        await d.CleanupAsync(new CleanupOptions
        {
            PendingJobs = CleanupAction.Remove, RetryingJobs = CleanupAction.Remove, CompletedJobs = CleanupAction.Remove,
            FailedJobs = CleanupAction.Remove, CancelledJobs = CleanupAction.Remove,
        }, default);
        Assert.Equal(new JobCounts(), await d.GetCountsAsync(default));
    }

    [Fact]
    public async Task Cleanup_rerun_puts_jobs_back_as_pending_from_attempt_one_with_their_priority()
    {
        var d = await DriverAsync(new RetentionPolicy { CompletedJobs = Retain.Yes, FailedJobs = Retain.Yes, CancelledJobs = Retain.Yes });
        var failed = Record(1, JobPriority.Higher);
        var completed = Record(2, JobPriority.Lower);
        await d.PushAsync([failed, completed], null, default);
        await ClaimAsync(d, "w");
        await d.CompleteAsync("w", [Outcome(failed.Id, JobOutcomeKind.Failed, 1, Error: "e"), Outcome(completed.Id, JobOutcomeKind.Completed, 1)], default);

        await d.CleanupAsync(new CleanupOptions { FailedJobs = CleanupAction.Rerun }, default);
        var info = await InfoAsync(d, failed.Id);
        Assert.Equal((JobState.Pending, 0, JobPriority.Higher, (string?)null, (DateTimeOffset?)null),
            (info.State, info.Attempts, info.Priority, info.LastError, info.FinishedAt));
        Assert.Equal(JobState.Completed, (await InfoAsync(d, completed.Id)).State);
        var again = Assert.Single(await ClaimAsync(d, "w"));
        Assert.Equal((failed.Id, 1), (again.Id, again.Attempt));
    }

    /// <summary>One job in each state (retention must keep completed, failed and cancelled jobs), by state.</summary>
    protected async Task<Dictionary<JobState, JobId>> JobsInEveryStateAsync(IJobDriver d)
    {
        var processing = Record(1, JobPriority.Highest);
        var completed = Record(2, JobPriority.Higher);
        var failed = Record(3, JobPriority.Normal);
        var retrying = Record(4, JobPriority.Lower);
        await d.PushAsync([processing, completed, failed, retrying], null, default);
        Assert.Equal(4, (await ClaimAsync(d, "w")).Count);
        await d.CompleteAsync("w",
        [
            Outcome(completed.Id, JobOutcomeKind.Completed, 1),
            Outcome(failed.Id, JobOutcomeKind.Failed, 1, Error: "failed"),
            Outcome(retrying.Id, JobOutcomeKind.Retry, 1, TimeSpan.FromHours(1), Error: "retry"),
        ], default);
        var pending = Record(5);
        var paused = Record(6);
        var cancelled = Record(7);
        await d.PushAsync([pending, paused, cancelled], null, default);
        Assert.True(await d.PauseAsync(paused.Id, default));
        Assert.True(await d.CancelAsync(cancelled.Id, default));
        var jobs = new Dictionary<JobState, JobId>
        {
            [JobState.Pending] = pending.Id,
            [JobState.Processing] = processing.Id,
            [JobState.Retrying] = retrying.Id,
            [JobState.Completed] = completed.Id,
            [JobState.Failed] = failed.Id,
            [JobState.Cancelled] = cancelled.Id,
            [JobState.Paused] = paused.Id,
        };
        foreach (var (state, id) in jobs)
        {
            Assert.Equal(state, (await InfoAsync(d, id)).State);
        }

        return jobs;
    }

    private static long Total(JobCounts c) => c.Pending + c.Processing + c.Retrying + c.Completed + c.Failed + c.Cancelled + c.Paused;
}
