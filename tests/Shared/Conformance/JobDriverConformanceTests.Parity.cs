using Jobs.Sdk.Drivers;
using Xunit;

namespace Jobs.Sdk.Testing;

/// <summary>
/// Behaviour users' unit tests (in-memory) and production (PostgreSQL) once saw differently: the order of jobs that tie
/// on priority and run time, the lease-expiry error, stored error text, a run time of MaxValue, retention of a unique job put back,
/// schedule entry keys, and an entry's pause and last fire in a queue view.
/// </summary>
public abstract partial class JobDriverConformanceTests
{
    /// <summary>The admin store over the same jobs as <paramref name="driver"/> (every queue of it).</summary>
    protected abstract IJobAdminStore AdminStore(IJobDriver driver);

    [Fact]
    public async Task Jobs_that_tie_on_priority_and_run_time_are_claimed_in_id_order_even_after_a_release_or_a_pause()
    {
        var d = await DriverAsync();
        // One batch: one run time on every driver (PostgreSQL's now() of the statement). Ids made later sort after.
        var records = Enumerable.Range(0, 3).Select(i => Record(i)).ToList();
        await d.PushAsync(records, null, default);

        // A claim given back (a worker stopping with prefetched jobs) and a job paused and resumed keep their places.
        var first = Assert.Single(await ClaimAsync(d, "w", 1));
        Assert.Equal(records[0].Id, first.Id);
        await d.CompleteAsync("w", [Outcome(first.Id, JobOutcomeKind.Release, 1)], default);
        Assert.True(await d.PauseAsync(records[1].Id, default));
        Assert.True(await d.ResumeAsync(records[1].Id, default));

        Assert.Equal(records.Select(r => r.Id), (await ClaimAsync(d, "w")).Select(c => c.Id));
    }

    [Fact]
    public async Task A_rescued_attempt_records_the_same_lease_expiry_error_on_every_driver()
    {
        var d = await DriverAsync();
        var r = Record(1, maxAttempts: 3);
        await d.PushAsync([r], null, default);
        Assert.Single(await ClaimAsync(d, "dead", 1, ShortLease));
        await ExpireLeaseAsync(d, r.Id);
        Assert.Equal(1, await d.RescueExpiredLeasesAsync(default));

        var info = await InfoAsync(d, r.Id);
        const string expected = "Jobs.Sdk.LeaseExpired: worker dead stopped renewing the lease of attempt 1 of 3.";
        Assert.Equal(expected, info.LastError);
        Assert.Equal(expected, Assert.Single(info.Errors).Error);
    }

    [Fact]
    public async Task An_outcomes_error_text_is_stored_storable_and_cut_to_8000_characters()
    {
        var d = await DriverAsync();
        var r = Record(1);
        await d.PushAsync([r], null, default);
        await ClaimAsync(d, "w");
        var error = "bad\0text \uD800 " + new string('x', 9000);
        await d.CompleteAsync("w", [Outcome(r.Id, JobOutcomeKind.Failed, 1, Error: error)], default);

        var info = await InfoAsync(d, r.Id);
        var expected = "bad\uFFFDtext \uFFFD " + new string('x', 8000 - 11);
        Assert.Equal(expected, info.LastError);
        Assert.Equal(expected, Assert.Single(info.Errors).Error);
    }

    [Fact]
    public async Task A_unique_job_kept_only_for_its_hold_and_rerun_is_kept_by_the_retention_of_the_state_it_ends_in()
    {
        // Failed jobs are deleted, completed ones kept: a failed unique job is kept only while its key holds.
        var d = await DriverAsync(new RetentionPolicy { CompletedJobs = Retain.Yes, FailedJobs = Retain.No });
        var job = Unique(1, "k", TimeSpan.FromSeconds(1));
        await d.PushUniqueAsync(job, null, default);
        await ClaimAsync(d, "w");
        await d.CompleteAsync("w", [Outcome(job.Id, JobOutcomeKind.Failed, 1, Error: "e")], default);
        Assert.Equal(JobState.Failed, (await InfoAsync(d, job.Id)).State);

        await d.CleanupAsync(new CleanupOptions { FailedJobs = CleanupAction.Rerun }, default);
        var rerun = await InfoAsync(d, job.Id);
        Assert.Equal((JobState.Pending, (DateTimeOffset?)null, (string?)null), (rerun.State, rerun.StartedAt, rerun.WorkerId));
        Assert.Single(await ClaimAsync(d, "w"));
        await d.CompleteAsync("w", [Outcome(job.Id, JobOutcomeKind.Completed, 2)], default);

        // Its hold ends (the clock moves past a short lease) and the rescue's housekeeping runs: a completed job stays.
        var other = Record(2);
        await d.PushAsync([other], null, default);
        Assert.Single(await ClaimAsync(d, "dead", 1, ShortLease));
        await ExpireLeaseAsync(d, other.Id);
        Assert.Equal(1, await d.RescueExpiredLeasesAsync(default));
        Assert.Equal(JobState.Completed, (await d.GetJobAsync(job.Id, default))?.State);
    }

    [Fact]
    public async Task An_empty_schedule_entry_key_is_refused()
    {
        var d = await DriverAsync();
        await Assert.ThrowsAsync<ArgumentException>(() => Store(d).GetLastFireTimeAsync("", default));
        await Assert.ThrowsAsync<ArgumentException>(() => Store(d).PushScheduledAsync("", Fire(1), Record(1), default));
        Assert.Equal(new JobCounts(), await d.GetCountsAsync(default));
    }

    [Fact]
    public async Task A_paused_entry_of_another_queue_records_fires_without_jobs_and_lists_its_last_fire()
    {
        var d = await DriverAsync();
        var other = d.ForQueue(d.QueueName + "-other");
        var admin = AdminStore(d);
        var key = "parity-" + Guid.NewGuid().ToString("N");
        await admin.PublishSchedulesAsync(
        [
            new ScheduleRegistration
            {
                QueueName = other.QueueName, EntryKey = key, JobName = ValueJob.JobName, Description = "hourly", Payload = "{\"value\":1}"u8.ToArray(),
            },
        ], default);

        Assert.Equal(1, await admin.SetSchedulePausedAsync(key, true, default));
        Assert.Equal(ScheduledFireOutcome.Paused, (await Store(other).PushScheduledAsync(key, Fire(1), Record(1), default)).Outcome);
        Assert.Equal(new JobCounts(), await other.GetCountsAsync(default));

        Assert.Equal(1, await admin.SetSchedulePausedAsync(key, false, default));
        var fired = Record(2);
        Assert.Equal(new ScheduledFireResult(ScheduledFireOutcome.Pushed, fired.Id), await Store(other).PushScheduledAsync(key, Fire(2), fired, default));
        var entry = Assert.Single(await admin.GetSchedulesAsync(default), s => s.EntryKey == key);
        Assert.Equal((other.QueueName, false, Fire(2)), (entry.QueueName, entry.IsPaused, entry.LastFireAt));
    }

    [Fact]
    public async Task An_entry_key_of_two_queues_is_paused_and_triggered_per_queue_and_a_paused_entry_is_not_triggered()
    {
        // Two applications of one store (or two queues' scheduled cleanups) publish the same key, one entry each.
        var d = await DriverAsync();
        var other = d.ForQueue(d.QueueName + "-other");
        var admin = AdminStore(d);
        var key = "scoped-" + Guid.NewGuid().ToString("N");
        await admin.PublishSchedulesAsync([.. new[] { d, other }.Select(q => new ScheduleRegistration
        {
            QueueName = q.QueueName, EntryKey = key, JobName = ValueJob.JobName, Description = "hourly", Payload = "{\"value\":1}"u8.ToArray(),
            TimeToLive = TimeSpan.FromMinutes(10),
        })], default);
        Assert.Equal(2, (await admin.GetSchedulesAsync(default)).Count(s => s.EntryKey == key));

        Assert.Equal(1, await admin.SetSchedulePausedAsync(other.QueueName, key, true, default));
        Assert.Equal(0, await admin.SetSchedulePausedAsync(other.QueueName, key, true, default));
        Assert.Equal([other.QueueName], (await admin.GetSchedulesAsync(default)).Where(s => s.EntryKey == key && s.IsPaused).Select(s => s.QueueName));
        Assert.Equal(ScheduledFireOutcome.Paused, (await Store(other).PushScheduledAsync(key, Fire(1), Record(1), default)).Outcome);
        var fired = Record(2);
        Assert.Equal(ScheduledFireOutcome.Pushed, (await Store(d).PushScheduledAsync(key, Fire(1), fired, default)).Outcome);

        // A trigger of the paused entry pushes nothing; of the other queue's, one job there.
        Assert.Equal(0, await admin.TriggerScheduleAsync(other.QueueName, key, JobId.New(), default));
        Assert.Equal(new JobCounts(), await other.GetCountsAsync(default));
        var triggered = JobId.New();
        Assert.Equal(1, await admin.TriggerScheduleAsync(d.QueueName, key, triggered, default));
        Assert.Equal(d.QueueName, (await d.GetJobAsync(triggered, default))?.QueueName);
        Assert.Equal(new JobCounts(), await other.GetCountsAsync(default));
        Assert.Equal(0, await admin.TriggerScheduleAsync("no-such-queue", key, JobId.New(), default));

        Assert.Equal(1, await admin.SetSchedulePausedAsync(other.QueueName, key, false, default));
        Assert.DoesNotContain(await admin.GetSchedulesAsync(default), s => s.EntryKey == key && s.IsPaused);
    }

    [Fact]
    public async Task A_batch_that_repeats_an_id_is_refused_whole()
    {
        var d = await DriverAsync();
        var first = Record(1);
        await Assert.ThrowsAnyAsync<Exception>(() => d.PushAsync([first, Record(2), Record(3, id: first.Id)], null, default));
        Assert.Equal(new JobCounts(), await d.GetCountsAsync(default));
        Assert.Null(await d.GetJobAsync(first.Id, default));
    }

    [Fact]
    public async Task A_cancelled_token_stops_every_operation_before_it_changes_anything()
    {
        var d = await DriverAsync(new RetentionPolicy { FailedJobs = Retain.Yes });
        var waiting = Record(1);
        var running = Record(2);
        await d.PushAsync([running], null, default);
        Assert.Single(await ClaimAsync(d, "w"));
        await d.PushAsync([waiting], null, default);
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();
        var token = cts.Token;

        var operations = new (string Name, Func<Task> Run)[]
        {
            ("PushAsync", () => d.PushAsync([Record(3)], null, token)),
            ("PushUniqueAsync", () => d.PushUniqueAsync(Unique(4, "k"), null, token)),
            ("PushUniqueManyAsync", () => d.PushUniqueManyAsync([Unique(5, "k2")], null, token)),
            ("ClaimAsync", () => d.ClaimAsync(new JobClaimRequest("w", 10, Minute), token)),
            ("CompleteAsync", () => d.CompleteAsync("w", [Outcome(running.Id, JobOutcomeKind.Failed, 1, Error: "e")], token)),
            ("RenewLeasesAsync", () => d.RenewLeasesAsync("w", Leases(running.Id), Minute, token)),
            ("RescueExpiredLeasesAsync", () => d.RescueExpiredLeasesAsync(token)),
            ("CancelAsync", () => d.CancelAsync(waiting.Id, token)),
            ("PauseAsync", () => d.PauseAsync(waiting.Id, token)),
            ("ResumeAsync", () => d.ResumeAsync(waiting.Id, token)),
            ("IsQueuePausedAsync", () => d.IsQueuePausedAsync(token)),
            ("GetJobAsync", () => d.GetJobAsync(waiting.Id, token)),
            ("GetCountsAsync", () => d.GetCountsAsync(token)),
            ("GetCountsByNameAsync", () => d.GetCountsByNameAsync(token)),
            ("GetWaitingNamesAsync", () => d.GetWaitingNamesAsync(TimeSpan.Zero, token)),
            ("CleanupAsync", () => d.CleanupAsync(new CleanupOptions { PendingJobs = CleanupAction.Remove }, token)),
            ("GetLastFireTimeAsync", () => Store(d).GetLastFireTimeAsync(UniqueEntry, token)),
            ("PushScheduledAsync", () => Store(d).PushScheduledAsync(UniqueEntry, Fire(1), Record(6), token)),
        };
        var notCancelled = await CancelledTokenCheck.RanAnywayAsync(operations);

        Assert.True(notCancelled.Count == 0, "Ran despite the cancelled token: " + string.Join(", ", notCancelled));
        Assert.Equal(new JobCounts { Pending = 1, Processing = 1 }, await d.GetCountsAsync(default));
        Assert.Equal(JobState.Pending, (await InfoAsync(d, waiting.Id)).State);
        Assert.Null(await Store(d).GetLastFireTimeAsync(UniqueEntry, default));
    }

    [Fact]
    public async Task An_empty_worker_id_is_refused_by_claims_outcomes_and_renewals()
    {
        var d = await DriverAsync();
        var r = Record(1);
        await d.PushAsync([r], null, default);
        var claim = await Assert.ThrowsAsync<ArgumentException>(() => d.ClaimAsync(new JobClaimRequest("", 10, Minute), default));
        Assert.Equal("request", claim.ParamName);
        Assert.Equal(JobState.Pending, (await InfoAsync(d, r.Id)).State);

        Assert.Single(await ClaimAsync(d, "w"));
        await Assert.ThrowsAsync<ArgumentException>(() => d.CompleteAsync("", [Outcome(r.Id, JobOutcomeKind.Completed, 1)], default));
        await Assert.ThrowsAsync<ArgumentException>(() => d.RenewLeasesAsync("", Leases(r.Id), Minute, default));
        Assert.Equal(JobState.Processing, (await InfoAsync(d, r.Id)).State);

        // Nothing to record or renew: nothing is checked, nothing is sent.
        await d.CompleteAsync("w", [], new CancellationToken(canceled: true));
        Assert.Same(LeaseRenewalResult.None, await d.RenewLeasesAsync("w", [], Minute, new CancellationToken(canceled: true)));
    }

    [Fact]
    public async Task The_last_error_is_the_latest_error_an_outcome_gave_whatever_its_kind()
    {
        var d = await DriverAsync();
        var r = Record(1, maxAttempts: 10);
        await d.PushAsync([r], null, default);

        async Task<string?> LastErrorAfterAsync(JobOutcomeKind kind, string? error)
        {
            var job = Assert.Single(await ClaimAsync(d, "w"));
            await d.CompleteAsync("w", [Outcome(r.Id, kind, job.Attempt, NextAttempt: job.Attempt, Error: error)], default);
            return (await InfoAsync(d, r.Id)).LastError;
        }

        Assert.Equal("first", await LastErrorAfterAsync(JobOutcomeKind.Retry, "first"));
        Assert.Equal("first", await LastErrorAfterAsync(JobOutcomeKind.Retry, null)); // no error given: the last one stands
        Assert.Equal("given back", await LastErrorAfterAsync(JobOutcomeKind.Release, "given back"));
        Assert.Equal("rescheduled", await LastErrorAfterAsync(JobOutcomeKind.Reschedule, "rescheduled"));
        Assert.Equal(["first", "given back", "rescheduled"], (await InfoAsync(d, r.Id)).Errors.Select(e => e.Error));
    }

    [Fact]
    public async Task A_run_time_is_stored_in_utc_to_the_microsecond()
    {
        var d = await DriverAsync();
        // 7 ticks (0.7 µs) past a whole microsecond, two hours east of UTC.
        var local = Now.AddHours(1).ToOffset(TimeSpan.FromHours(2));
        var runAt = new DateTimeOffset(local.Ticks - (local.Ticks % 10) + 7, local.Offset);
        var r = Record(1, runAt: runAt);
        await d.PushAsync([r], null, default);

        var stored = (await InfoAsync(d, r.Id)).RunAt;
        Assert.Equal((runAt.UtcTicks - 7, TimeSpan.Zero), (stored.UtcTicks, stored.Offset));
    }

    [Fact]
    public async Task A_run_time_of_DateTimeOffset_MaxValue_reads_back_whole()
    {
        // A job parked until further notice: PostgreSQL stores MaxValue as infinity (Npgsql's mapping) and reads it back whole.
        var d = await DriverAsync();
        var r = Record(1, runAt: DateTimeOffset.MaxValue);
        await d.PushAsync([r], null, default);

        Assert.Equal(DateTimeOffset.MaxValue, (await InfoAsync(d, r.Id)).RunAt);
        Assert.Empty(await ClaimAsync(d, "w"));
    }

    [Fact]
    public async Task Cancelling_a_running_job_through_the_driver_marks_it_updated()
    {
        // Its last change dates a cleanup by age and the admin lists; the lease expiry moves a fake clock on, no more.
        var d = await DriverAsync();
        var r = Record(1);
        await d.PushAsync([r], null, default);
        Assert.Single(await ClaimAsync(d, "w", 1, ShortLease));
        var claimed = (await AdminStore(d).GetJobAsync(r.Id, default))?.UpdatedAt;
        await ExpireLeaseAsync(d, r.Id);

        Assert.True(await d.CancelAsync(r.Id, default));
        var cancelled = await AdminStore(d).GetJobAsync(r.Id, default);
        Assert.Equal((JobState.Processing, true), (cancelled?.State, cancelled?.CancelRequested));
        Assert.True(cancelled?.UpdatedAt > claimed, $"Updated at {cancelled?.UpdatedAt:O} after the cancel, {claimed:O} when claimed.");
    }

    [Fact]
    public async Task A_unique_batch_reports_the_holder_for_a_job_whose_id_is_stored_when_its_key_is_held()
    {
        // A batch pushed again (its reply lost) finds its own jobs holding their keys; a job whose key is held is not
        // stored, so its id is never compared with the stored ones: the holder is reported, as a single unique push does.
        var d = await DriverAsync();
        var plain = Record(0);
        await d.PushAsync([plain], null, default);
        var batch = new[] { Unique(1, "a"), Unique(2, "b") };
        await d.PushUniqueManyAsync(batch, null, default);

        var again = new[] { batch[0], Unique(3, "b") with { Id = plain.Id }, Unique(4, "c"), Unique(5, "c") with { Id = batch[1].Id } };
        var results = await d.PushUniqueManyAsync(again, null, default);

        Assert.Equal(
            [new JobPushResult(batch[0].Id, false), new JobPushResult(batch[1].Id, false), new JobPushResult(again[2].Id, true), new JobPushResult(again[2].Id, false)],
            results);
        Assert.Equal(4, (await d.GetCountsAsync(default)).Pending);
    }
}
