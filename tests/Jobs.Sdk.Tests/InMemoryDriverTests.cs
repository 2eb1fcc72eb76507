using Jobs.Sdk.Drivers;
using Jobs.Sdk.InMemory;

namespace Jobs.Sdk.Tests;

/// <summary>Queue operations without workers: cancel, pause/resume, retention, cleanup, counts, concurrency.</summary>
public sealed class InMemoryDriverTests
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Cancelled_pending_jobs_never_run_and_are_dropped_by_default()
    {
        await using var host = TestHost.Create(j => j.AddJob<ValueJob>((_, _, _) => Task.CompletedTask));
        var id = await host.Queue.PushAsync(new ValueJob(42), new JobOptions { Priority = JobPriority.Lower });
        var other = await host.Queue.PushAsync(new ValueJob(2025), new JobOptions { Priority = JobPriority.Highest });

        Assert.True(await host.Queue.CancelAsync(id));
        Assert.False(await host.Queue.CancelAsync(id));
        Assert.Null(await host.Queue.GetJobAsync(id));
        Assert.Equal(1, (await host.Queue.GetCountsAsync()).Pending);

        var claimed = await Driver(host).ClaimAsync(new JobClaimRequest("w", 10, Lease), default);
        Assert.Equal([other], claimed.Select(c => c.Id));
    }

    [Fact]
    public async Task Cancelled_jobs_are_kept_when_retention_says_so_and_removed_by_cleanup()
    {
        await using var host = TestHost.Create(_ => { }, driver: d => d.Retention = new RetentionPolicy { CancelledJobs = Retain.Yes });
        var a = await host.Queue.PushAsync(new ValueJob(1));
        var b = await host.Queue.PushAsync(new ValueJob(2));
        await host.Queue.CancelAsync(a);
        await host.Queue.CancelAsync(b);
        Assert.Equal(2, (await host.Queue.GetCountsAsync()).Cancelled);

        await host.Queue.CleanupAsync(new CleanupOptions { CancelledJobs = CleanupAction.RemoveOlderThan(TimeSpan.FromDays(1)) });
        Assert.Equal(2, (await host.Queue.GetCountsAsync()).Cancelled);
        await host.Queue.CleanupAsync(new CleanupOptions { CancelledJobs = CleanupAction.Remove });
        Assert.Equal(0, (await host.Queue.GetCountsAsync()).Cancelled);
    }

    [Fact]
    public async Task Paused_jobs_are_not_claimed_until_resumed_and_keep_priority_and_run_time()
    {
        var time = FakeTime.Create();
        await using var host = TestHost.Create(_ => { }, time);
        var runAt = time.GetUtcNow().AddMinutes(5);
        var paused = await host.Queue.PushAsync(new ValueJob(1), new JobOptions { Priority = JobPriority.Highest, DelayUntil = runAt });
        var normal = await host.Queue.PushAsync(new ValueJob(2));

        Assert.True(await host.Queue.PauseAsync(paused));
        Assert.False(await host.Queue.PauseAsync(paused));
        var counts = await host.Queue.GetCountsAsync();
        Assert.Equal((1, 1), (counts.Pending, counts.Paused));

        time.Advance(TimeSpan.FromMinutes(10));
        Assert.Equal([normal], (await Driver(host).ClaimAsync(new JobClaimRequest("w", 10, Lease), default)).Select(c => c.Id));

        Assert.True(await host.Queue.ResumeAsync(paused));
        Assert.False(await host.Queue.ResumeAsync(paused));
        var info = await host.Queue.GetJobAsync(paused);
        Assert.Equal((JobState.Pending, JobPriority.Highest, runAt), (info!.State, info.Priority, info.RunAt));
        Assert.Equal([paused], (await Driver(host).ClaimAsync(new JobClaimRequest("w", 10, Lease), default)).Select(c => c.Id));
    }

    [Fact]
    public async Task Resume_of_a_job_that_is_not_paused_does_nothing()
    {
        await using var host = TestHost.Create(_ => { });
        var id = await host.Queue.PushAsync(new ValueJob(1));
        Assert.False(await host.Queue.ResumeAsync(id));
        Assert.False(await host.Queue.ResumeAsync(JobId.New()));
        Assert.Equal(1, (await host.Queue.GetCountsAsync()).Pending);
    }

    [Fact]
    public async Task Retention_keeps_what_the_policy_says_per_state()
    {
        await using var host = TestHost.Create(_ => { }, driver: d => d.Retention = new RetentionPolicy { CompletedJobs = Retain.Yes, FailedJobs = Retain.No });
        await host.Queue.PushManyAsync([new ValueJob(1), new ValueJob(2)]);
        var claimed = await Driver(host).ClaimAsync(new JobClaimRequest("w", 10, Lease), default);
        await Driver(host).CompleteAsync("w",
        [
            new JobOutcome(claimed[0].Id, JobOutcomeKind.Completed, 1),
            new JobOutcome(claimed[1].Id, JobOutcomeKind.Failed, 1, Error: "x"),
        ], default);

        var counts = await host.Queue.GetCountsAsync();
        Assert.Equal((1L, 0L, 0L), (counts.Completed, counts.Failed, counts.Processing));
        Assert.Null(await host.Queue.GetJobAsync(claimed[1].Id));
    }

    [Fact]
    public async Task Cleanup_rerun_puts_failed_jobs_back_from_attempt_one_with_their_priority()
    {
        await using var host = TestHost.Create(_ => { });
        var id = await host.Queue.PushAsync(new ValueJob(1), new JobOptions { Priority = JobPriority.Higher });
        var claimed = await Driver(host).ClaimAsync(new JobClaimRequest("w", 1, Lease), default);
        await Driver(host).CompleteAsync("w", [new JobOutcome(id, JobOutcomeKind.Failed, claimed[0].Attempt, Error: "e")], default);
        Assert.Equal(JobState.Failed, (await host.Queue.GetJobAsync(id))!.State);

        await host.Queue.CleanupAsync(new CleanupOptions { FailedJobs = CleanupAction.Rerun });
        var info = await host.Queue.GetJobAsync(id);
        Assert.Equal((JobState.Pending, 0, JobPriority.Higher, (string?)null), (info!.State, info.Attempts, info.Priority, info.LastError));
        Assert.Equal(1, (await Driver(host).ClaimAsync(new JobClaimRequest("w", 1, Lease), default))[0].Attempt);
    }

    [Fact]
    public async Task Cleanup_acts_on_each_state_independently()
    {
        await using var host = TestHost.Create(_ => { });
        await host.Queue.PushManyAsync([new ValueJob(1), new ValueJob(2), new ValueJob(3)]);
        var paused = await host.Queue.PushAsync(new ValueJob(4));
        await host.Queue.PauseAsync(paused);
        await Driver(host).ClaimAsync(new JobClaimRequest("w", 1, Lease), default);

        await host.Queue.CleanupAsync(new CleanupOptions { ProcessingJobs = CleanupAction.Remove, PausedJobs = CleanupAction.Remove });
        var counts = await host.Queue.GetCountsAsync();
        Assert.Equal((2L, 0L, 0L), (counts.Pending, counts.Processing, counts.Paused));

        await host.Queue.CleanupAsync(new CleanupOptions { PendingJobs = CleanupAction.Remove });
        Assert.Equal(0, (await host.Queue.GetCountsAsync()).Pending);
    }

    [Fact]
    public async Task Concurrent_claims_never_hand_one_job_to_two_workers()
    {
        await using var host = TestHost.Create(_ => { });
        var ids = await host.Queue.PushManyAsync(Enumerable.Range(0, 5000).Select(i => new ValueJob(i)));
        var driver = Driver(host);
        var claims = await Task.WhenAll(Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
        {
            var mine = new List<JobId>();
            while (true)
            {
                var batch = await driver.ClaimAsync(new JobClaimRequest($"w{w}", 7, Lease), default);
                if (batch.Count == 0)
                {
                    return mine;
                }

                mine.AddRange(batch.Select(b => b.Id));
            }
        })));

        var all = claims.SelectMany(c => c).ToList();
        Assert.Equal(5000, all.Count);
        Assert.Equal(ids.ToHashSet(), all.ToHashSet());
    }

    [Fact]
    public async Task Transactions_are_refused_with_a_clear_message()
    {
        await using var host = TestHost.Create(_ => { });
        var ex = await Assert.ThrowsAsync<NotSupportedException>(() => Driver(host).PushAsync([], new FakeTransaction(), default));
        Assert.Contains("PostgreSQL driver", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Job_ids_round_trip_through_text_and_are_time_ordered()
    {
        var a = JobId.New();
        var b = JobId.New();
        Assert.Equal(a, JobId.Parse(a.ToString()));
        Assert.True(JobId.TryParse(b.ToString(), null, out var parsed) && parsed == b);
        Assert.False(JobId.TryParse("nope", null, out _));
        Assert.True(string.CompareOrdinal(a.ToString(), b.ToString()) < 0 || a.Value.ToString()[..8] == b.Value.ToString()[..8]);
    }

    [Fact]
    public void Exponential_jitter_backoff_grows_within_its_bounds()
    {
        var strategy = JobRetryStrategy.ExponentialJitter(maxAttempts: 4, maxBackoff: TimeSpan.FromSeconds(120), jitter: 0.5);
        for (var attempt = 1; attempt <= 10; attempt++)
        {
            var expected = Math.Min(Math.Pow(2, attempt), 120);
            var delay = strategy.GetDelay(attempt, new InvalidOperationException()).TotalSeconds;
            Assert.InRange(delay, expected * 0.5, expected * 1.5);
        }

        Assert.True(strategy.ShouldRetry(3, new InvalidOperationException()));
        Assert.False(strategy.ShouldRetry(4, new InvalidOperationException()));
        Assert.False(JobRetryStrategy.None.ShouldRetry(1, new InvalidOperationException()));
    }

    private static InMemoryJobDriver Driver(TestHost host) => host.Driver.Driver;

    private sealed class FakeTransaction : System.Data.Common.DbTransaction
    {
        public override System.Data.IsolationLevel IsolationLevel => System.Data.IsolationLevel.ReadCommitted;
        protected override System.Data.Common.DbConnection? DbConnection => null;
        public override void Commit() { }
        public override void Rollback() { }
    }
}
