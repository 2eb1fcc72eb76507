using Jobs.Sdk.Drivers;
using Xunit;

namespace Jobs.Sdk.Testing;

/// <summary>Issue 16: queue views of one store (<see cref="IJobDriver.ForQueue"/>) and unique jobs (<see cref="IJobDriver.PushUniqueAsync"/>).</summary>
public abstract partial class JobDriverConformanceTests
{
    private static JobPushRecord Unique(int value, string key, TimeSpan uniqueFor = default) => Record(value) with { UniqueKey = key, UniqueFor = uniqueFor };

    [Fact]
    public async Task Queue_views_share_the_store_but_claim_and_read_only_their_own_queue()
    {
        var d = await DriverAsync();
        var other = d.ForQueue(d.QueueName + "-other");
        Assert.Same(other, d.ForQueue(d.QueueName + "-other"));
        Assert.Same(d, d.ForQueue(d.QueueName));
        Assert.Equal(d.QueueName + "-other", other.QueueName);

        var mine = Record(1);
        var theirs = Record(2);
        await d.PushAsync([mine], null, default);
        await other.PushAsync([theirs], null, default);

        Assert.Null(await d.GetJobAsync(theirs.Id, default));
        Assert.Equal(other.QueueName, (await other.GetJobAsync(theirs.Id, default))!.QueueName);
        var claimed = await ClaimAsync(other, "w");
        Assert.Equal([theirs.Id], claimed.Select(c => c.Id));
        Assert.Equal([mine.Id], (await ClaimAsync(d, "w")).Select(c => c.Id));
        Assert.Equal(1, (await other.GetCountsAsync(default)).Processing);
    }

    [Fact]
    public async Task Unique_push_of_a_held_key_inserts_nothing_and_returns_the_holder()
    {
        var d = await DriverAsync();
        var first = await d.PushUniqueAsync(Unique(1, "k"), null, default);
        var second = await d.PushUniqueAsync(Unique(2, "k"), null, default);
        var otherKey = await d.PushUniqueAsync(Unique(3, "k2"), null, default);

        Assert.True(first.Inserted);
        Assert.False(second.Inserted);
        Assert.Equal(first.Id, second.Id);
        Assert.True(otherKey.Inserted);
        Assert.Equal(2, (await d.GetCountsAsync(default)).Pending);

        // A running job still holds its key.
        await ClaimAsync(d, "w");
        Assert.Equal(new JobPushResult(first.Id, false), await d.PushUniqueAsync(Unique(4, "k"), null, default));
    }

    [Fact]
    public async Task A_unique_batch_reports_each_job_stores_a_key_once_and_is_refused_whole_when_one_job_is_invalid()
    {
        var d = await DriverAsync();
        var holder = await d.PushUniqueAsync(Unique(0, "held"), null, default);
        var batch = new[] { Unique(1, "a"), Unique(2, "held"), Unique(3, "a"), Record(4) };

        var results = await d.PushUniqueManyAsync(batch, null, default);

        Assert.Equal(
            [new JobPushResult(batch[0].Id, true), new JobPushResult(holder.Id, false), new JobPushResult(batch[0].Id, false), new JobPushResult(batch[3].Id, true)],
            results);
        Assert.Equal(3, (await d.GetCountsAsync(default)).Pending);

        // A job the store refuses (an id already stored) refuses the whole batch: nothing of it is stored.
        var refused = new[] { Unique(5, "b"), Unique(6, "c") with { Id = batch[3].Id } };
        await Assert.ThrowsAnyAsync<Exception>(() => d.PushUniqueManyAsync(refused, null, default));
        Assert.Equal(3, (await d.GetCountsAsync(default)).Pending);
        Assert.True((await d.PushUniqueAsync(Unique(7, "b"), null, default)).Inserted);
    }

    [Fact]
    public async Task Unique_keys_are_per_queue()
    {
        var d = await DriverAsync();
        var other = d.ForQueue(d.QueueName + "-other");
        Assert.True((await d.PushUniqueAsync(Unique(1, "k"), null, default)).Inserted);
        Assert.True((await other.PushUniqueAsync(Unique(1, "k"), null, default)).Inserted);
    }

    [Fact]
    public async Task Without_UniqueFor_a_finished_job_releases_its_key()
    {
        var d = await DriverAsync(new RetentionPolicy { CompletedJobs = Retain.Yes });
        var first = await d.PushUniqueAsync(Unique(1, "k"), null, default);
        var job = Assert.Single(await ClaimAsync(d, "w"));
        await d.CompleteAsync("w", [Outcome(job.Id, JobOutcomeKind.Completed, 1)], default);

        var again = await d.PushUniqueAsync(Unique(2, "k"), null, default);
        Assert.True(again.Inserted);
        Assert.NotEqual(first.Id, again.Id);
        Assert.Equal(JobState.Completed, (await InfoAsync(d, first.Id)).State);
    }

    [Fact]
    public async Task With_UniqueFor_a_finished_job_keeps_its_key_even_when_retention_deletes_finished_jobs()
    {
        var d = await DriverAsync(); // default retention: completed jobs are deleted
        var first = await d.PushUniqueAsync(Unique(1, "k", TimeSpan.FromHours(1)), null, default);
        var job = Assert.Single(await ClaimAsync(d, "w"));
        await d.CompleteAsync("w", [Outcome(job.Id, JobOutcomeKind.Completed, 1)], default);

        var again = await d.PushUniqueAsync(Unique(2, "k", TimeSpan.FromHours(1)), null, default);
        Assert.Equal(new JobPushResult(first.Id, false), again);
        Assert.Equal(JobState.Completed, (await InfoAsync(d, first.Id)).State);
    }

    [Fact]
    public async Task A_cleanup_keeps_a_finished_unique_job_for_its_UniqueFor_as_retention_does()
    {
        // An operator's or a scheduled cleanup of completed jobs (CleanupAsync, jobs cleanup --completed 0s) deleted the
        // job holding its key for an hour, so the next push of the key ran the work again within the hour.
        var d = await DriverAsync(new RetentionPolicy { CompletedJobs = Retain.Yes });
        var held = await d.PushUniqueAsync(Unique(1, "held", TimeSpan.FromHours(1)), null, default);
        var released = await d.PushUniqueAsync(Unique(2, "released"), null, default);
        var plain = Record(3);
        await d.PushAsync([plain], null, default);
        var jobs = await ClaimAsync(d, "w", 10);
        Assert.Equal(3, jobs.Count);
        await d.CompleteAsync("w", [.. jobs.Select(j => Outcome(j.Id, JobOutcomeKind.Completed, 1))], default);

        await d.CleanupAsync(new CleanupOptions { CompletedJobs = CleanupAction.Remove }, default);

        var kept = await d.GetJobAsync(held.Id, default);
        Assert.True(kept is { State: JobState.Completed },
            $"The cleanup deleted the completed unique job that holds its key for an hour (now: {kept?.State.ToString() ?? "gone"}); the next push of the key would run the work again");
        Assert.Equal(new JobPushResult(held.Id, false), await d.PushUniqueAsync(Unique(4, "held", TimeSpan.FromHours(1)), null, default));
        // The jobs that hold nothing are deleted as before.
        Assert.Null(await d.GetJobAsync(released.Id, default));
        Assert.Null(await d.GetJobAsync(plain.Id, default));
    }

    [Fact]
    public async Task Concurrent_unique_pushes_of_one_key_store_one_job()
    {
        var d = await DriverAsync();
        var results = await Task.WhenAll(Enumerable.Range(0, 16).Select(i => Task.Run(() => d.PushUniqueAsync(Unique(i, "same"), null, default))));
        Assert.Single(results, r => r.Inserted);
        Assert.Single(results.Select(r => r.Id).Distinct());
        Assert.Equal(1, (await d.GetCountsAsync(default)).Pending);
    }

    [Fact]
    public async Task Global_concurrency_counts_processing_jobs_of_every_worker_and_a_rescue_returns_the_slot()
    {
        var d = await DriverAsync();
        await d.PushAsync([Record(1), Record(2), Record(3), Record(4)], null, default);
        JobClaimRequest Limited(string worker, TimeSpan lease) => new(worker, 10, lease) { GlobalConcurrency = 2 };

        var a = await ClaimRequestAsync(d, Limited("a", ShortLease));
        Assert.Equal(2, a.Count);
        Assert.Empty(await ClaimRequestAsync(d, Limited("b", Minute)));

        await d.CompleteAsync("a", [Outcome(a[0].Id, JobOutcomeKind.Completed, 1)], default);
        Assert.Single(await ClaimRequestAsync(d, Limited("b", Minute)));
        Assert.Empty(await ClaimRequestAsync(d, Limited("b", Minute)));

        // Worker a dies: its other job holds a slot until its lease is rescued.
        await ExpireLeaseAsync(d, a[1].Id);
        Assert.Empty(await ClaimRequestAsync(d, Limited("b", Minute)));
        Assert.Equal(1, await d.RescueExpiredLeasesAsync(default));
        Assert.Single(await ClaimRequestAsync(d, Limited("b", Minute)));
        Assert.Equal(2, (await d.GetCountsAsync(default)).Processing);
    }
}

/// <summary>Issue 16: unique keys held after a job finished survive every way it can finish.</summary>
public abstract partial class JobDriverConformanceTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_unique_job_failed_or_cancelled_by_a_rescue_keeps_its_key_for_UniqueFor_even_when_retention_deletes_those_states(bool cancel)
    {
        var d = await DriverAsync(new RetentionPolicy { FailedJobs = Retain.No, CancelledJobs = Retain.No });
        var first = await d.PushUniqueAsync(Unique(1, "k", TimeSpan.FromHours(1)) with { MaxAttempts = 1 }, null, default);
        var job = Assert.Single(await ClaimAsync(d, "dead", 1, ShortLease));
        if (cancel)
        {
            Assert.True(await d.CancelAsync(job.Id, default)); // running: cancel requested; the rescue ends it cancelled
        }

        // The worker dies on the job's last attempt: the rescue fails it (or cancels it), and the key still holds.
        await ExpireLeaseAsync(d, job.Id);
        Assert.Equal(1, await d.RescueExpiredLeasesAsync(default));
        Assert.Equal(cancel ? JobState.Cancelled : JobState.Failed, (await InfoAsync(d, first.Id)).State);
        Assert.Equal(new JobPushResult(first.Id, false), await d.PushUniqueAsync(Unique(2, "k", TimeSpan.FromHours(1)), null, default));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_waiting_unique_job_cancelled_keeps_its_key_for_UniqueFor_even_when_retention_deletes_cancelled_jobs(bool paused)
    {
        var d = await DriverAsync(new RetentionPolicy { CancelledJobs = Retain.No });
        var first = await d.PushUniqueAsync(Unique(1, "k", TimeSpan.FromHours(1)) with { RunAt = DateTimeOffset.UtcNow.AddHours(1) }, null, default);
        if (paused)
        {
            Assert.True(await d.PauseAsync(first.Id, default));
        }

        Assert.True(await d.CancelAsync(first.Id, default));

        Assert.Equal(new JobPushResult(first.Id, false), await d.PushUniqueAsync(Unique(2, "k", TimeSpan.FromHours(1)), null, default));
        // Without UniqueFor the cancelled job is deleted at once, and its key with it.
        var other = await d.PushUniqueAsync(Unique(3, "k2"), null, default);
        Assert.True(await d.CancelAsync(other.Id, default));
        Assert.Null(await d.GetJobAsync(other.Id, default));
        Assert.True((await d.PushUniqueAsync(Unique(4, "k2"), null, default)).Inserted);
    }
}
