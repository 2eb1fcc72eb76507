using Jobs.Sdk.InMemory;

namespace Jobs.Sdk.Tests;

/// <summary>In-memory specifics. The driver contract (cancel, pause/resume, retention, cleanup, counts, concurrency) is tested by
/// <see cref="InMemoryDriverConformanceTests"/> (tests/Shared/Conformance).</summary>
public sealed class InMemoryDriverTests
{
    [Fact]
    public async Task Transactions_are_refused_with_a_clear_message()
    {
        await using var host = TestHost.Create(_ => { });
        var ex = await Assert.ThrowsAsync<NotSupportedException>(() => Driver(host).PushAsync([], new FakeTransaction(), default));
        Assert.Contains("PostgreSQL driver", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pushes_PostgreSQL_cannot_store_are_refused_here_too()
    {
        // As the PostgreSQL driver (PushValidationTests): a job tested in memory must not fail only in production.
        await using var host = TestHost.Create(_ => { });
        var nul = await Assert.ThrowsAsync<ArgumentException>(() => host.Queue.PushManyAsync([new BadPayloadJob("fine"), new BadPayloadJob("a\0b")]));
        Assert.Contains("U+0000", nul.Message, StringComparison.Ordinal);
        var key = await Assert.ThrowsAsync<ArgumentException>(() => host.Queue.PushAsync(new ValueJob(1), new JobOptions { ConcurrencyKey = "k\0" }));
        Assert.Equal("options.ConcurrencyKey", key.ParamName);
        var longKey = await Assert.ThrowsAsync<ArgumentException>(() => host.Queue.PushAsync(new ValueJob(1), new JobOptions { ConcurrencyKey = new string('k', 1_001) }));
        Assert.Equal("options.ConcurrencyKey", longKey.ParamName);
        await Assert.ThrowsAsync<ArgumentException>(() => host.Queue.PushAsync(new ValueJob(1), new JobOptions { Queue = new string('q', 1_001) }));
        Assert.Equal(0, (await host.Queue.GetCountsAsync()).Pending);
        await host.Queue.PushAsync(new BadPayloadJob(@"\\u0000 as text"));
        Assert.Equal(1, (await host.Queue.GetCountsAsync()).Pending);
    }

    [Fact]
    public async Task Waiting_names_list_only_jobs_due_for_longer_than_asked_as_PostgreSQL()
    {
        // "Due for longer than dueFor" (IJobDriver, UnhandledJobWarningAfter): PostgreSQL reads run_at < now() - dueFor.
        // Only a fake clock can stand on the boundary, hence here and not in the conformance tests.
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var driver = new InMemoryJobDriver(timeProvider: time);
        await driver.PushAsync([new Drivers.JobPushRecord { Id = JobId.New(), Name = ValueJob.JobName, Payload = "{\"value\":1}"u8.ToArray() }], null, default);
        time.Advance(TimeSpan.FromMinutes(5));

        Assert.Empty(await driver.GetWaitingNamesAsync(TimeSpan.FromMinutes(5), default));
        time.Advance(TimeSpan.FromTicks(10));
        Assert.Equal(ValueJob.JobName, Assert.Single(await driver.GetWaitingNamesAsync(TimeSpan.FromMinutes(5), default)).Name);
    }

    [Fact]
    public async Task Finished_unique_jobs_leave_the_store_at_the_rescue_pass_after_their_hold_when_retention_drops_them()
    {
        // As the PostgreSQL driver (LongRunTests): a key that never comes back must not keep its finished job for ever.
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var driver = new InMemoryJobDriver(timeProvider: time); // default retention: completed jobs are deleted
        Drivers.JobPushRecord Held(int key, TimeSpan hold) => new()
        {
            Id = JobId.New(), Name = ValueJob.JobName, Payload = "{\"value\":1}"u8.ToArray(), UniqueKey = "k" + key, UniqueFor = hold,
        };
        var shortHold = await driver.PushUniqueAsync(Held(1, TimeSpan.FromHours(1)), null, default);
        var longHold = await driver.PushUniqueAsync(Held(2, TimeSpan.FromHours(3)), null, default);
        var claimed = await driver.ClaimAsync(new Drivers.JobClaimRequest("w", 10, TimeSpan.FromMinutes(1)), default);
        await driver.CompleteAsync("w", claimed.Select(c => new Drivers.JobOutcome(c.Id, JobOutcomeKind.Completed, c.Attempt, LeaseToken: c.LeaseToken)).ToArray(), default);

        time.Advance(TimeSpan.FromHours(2));
        await driver.RescueExpiredLeasesAsync(default);

        Assert.Null(await driver.GetJobAsync(shortHold.Id, default));
        Assert.Equal(JobState.Completed, (await driver.GetJobAsync(longHold.Id, default))?.State);
        Assert.Equal(1, (await driver.GetCountsAsync(default)).Completed);
        Assert.False((await driver.PushUniqueAsync(Held(2, TimeSpan.FromHours(3)), null, default)).Inserted);
        Assert.True((await driver.PushUniqueAsync(Held(1, TimeSpan.FromHours(1)), null, default)).Inserted);
    }

    [Fact]
    public void Job_ids_round_trip_through_text()
    {
        var a = JobId.New();
        var b = JobId.New();
        Assert.Equal(a, JobId.Parse(a.ToString()));
        Assert.True(JobId.TryParse(b.ToString(), null, out var parsed) && parsed == b);
        Assert.False(JobId.TryParse("nope", null, out _));
        Assert.NotEqual(a, b);
    }

    [Fact]
    public void Job_ids_carry_their_creation_time_and_sort_by_it_as_text()
    {
        var before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var ids = Enumerable.Range(0, 2000).Select(_ => JobId.New().ToString()).ToList();
        var after = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

        // The first 48 bits are the Unix time in milliseconds (UUID version 7): within the clock readings around New().
        var times = ids.Select(TimeOf).ToList();
        Assert.All(times, t => Assert.InRange(t, before, after));
        Assert.All(ids, id => Assert.Equal('7', id[14]));
        for (var i = 1; i < ids.Count; i++)
        {
            Assert.True(times[i] >= times[i - 1], $"id {i} was created before id {i - 1}");
            if (times[i] > times[i - 1])
            {
                // Ids from a later millisecond sort after, as text (and so in the database and in logs).
                Assert.True(string.CompareOrdinal(ids[i - 1], ids[i]) < 0, $"{ids[i - 1]} !< {ids[i]}");
            }
        }

        static long TimeOf(string id) => long.Parse(id[..8] + id[9..13], System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture);
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
