using Jobs.Sdk.Drivers;
using Jobs.Sdk.InMemory;
using Microsoft.Extensions.Time.Testing;
using static Jobs.Sdk.Tests.Scheduling.Times;

namespace Jobs.Sdk.Tests.Scheduling;

public sealed class JobSchedulerTests
{
    private const string PingKey = "test.ping@hourly at minute 0 UTC";

    private static JobSchedule Hourly(ScheduleAccuracy accuracy = ScheduleAccuracy.Latest)
        => new JobSchedule().Add(new Ping("p"), Schedule.Hourly(), accuracy);

    [Fact]
    public async Task First_start_begins_from_now_without_back_filling()
    {
        var time = new FakeTimeProvider(Utc(2026, 1, 1, 10, 30));
        var driver = new InMemoryJobDriver(timeProvider: time);
        await using var node = new SchedulerNode(driver, time, Hourly(ScheduleAccuracy.All));
        Assert.Equal(PingKey, Assert.Single(Hourly().Entries).Key);

        await node.StartAsync();
        await node.Probe.WaitingForAsync(PingKey, Utc(2026, 1, 1, 11, 0));
        Assert.Equal(0, (await driver.GetCountsAsync(default)).Pending);

        await node.AdvanceAsync(TimeSpan.FromMinutes(30));
        await node.Probe.WaitingForAsync(PingKey, Utc(2026, 1, 1, 12, 0));
        var job = Assert.Single(await driver.ClaimAllAsync());
        Assert.Equal("test.ping", job.Name);
        Assert.Equal("{\"tag\":\"p\"}", System.Text.Encoding.UTF8.GetString(job.Payload.Span));
        Assert.Equal(Utc(2026, 1, 1, 11, 0), job.RunAt);
        Assert.Equal(Utc(2026, 1, 1, 11, 0), job.ScheduledAt());
        Assert.Equal("2026-01-01T11:00:00.0000000+00:00", job.Headers![JobHeaders.ScheduledAt]);
        Assert.Equal("2026-01-01T12:00:00.0000000+00:00", job.Headers![JobHeaders.NextScheduledAt]);
        Assert.Equal(PingKey, job.Headers![JobHeaders.ScheduleEntry]);
        Assert.Equal(Utc(2026, 1, 1, 11, 0), await driver.GetLastFireTimeAsync(PingKey, default));
    }

    [Theory]
    [InlineData(ScheduleAccuracy.Latest, new[] { 11, 16 })]
    [InlineData(ScheduleAccuracy.All, new[] { 11, 12, 13, 14, 15, 16 })]
    public async Task After_downtime_missed_fires_follow_the_accuracy(ScheduleAccuracy accuracy, int[] expectedHours)
    {
        var time = new FakeTimeProvider(Utc(2026, 1, 1, 10, 30));
        var driver = new InMemoryJobDriver(timeProvider: time);
        var first = new SchedulerNode(driver, time, Hourly(accuracy));
        await first.StartAsync();
        await first.SettledAsync();
        await first.AdvanceAsync(TimeSpan.FromMinutes(30));
        await first.Probe.WaitingForAsync(PingKey, Utc(2026, 1, 1, 12, 0));
        await first.StopAsync();
        await first.DisposeAsync();

        // Down from 11:00 to 16:10: the fires of 12:00 … 16:00 are missed.
        time.Advance(TimeSpan.FromMinutes(5 * 60 + 10));
        await using var second = new SchedulerNode(driver, time, Hourly(accuracy));
        await second.StartAsync();
        await second.SettledAsync();
        await second.Probe.WaitingForAsync(PingKey, Utc(2026, 1, 1, 17, 0));

        var jobs = await driver.ClaimAllAsync();
        Assert.Equal(expectedHours.Select(h => Utc(2026, 1, 1, h, 0)), jobs.Select(j => j.ScheduledAt()).Order());
        Assert.All(jobs, j => Assert.Equal(j.ScheduledAt(), j.RunAt));
        Assert.Equal(Utc(2026, 1, 1, 16, 0), await driver.GetLastFireTimeAsync(PingKey, default));

        // Then it follows the schedule again.
        await second.AdvanceAsync(TimeSpan.FromMinutes(50));
        await second.Probe.WaitingForAsync(PingKey, Utc(2026, 1, 1, 18, 0));
        Assert.Equal(Utc(2026, 1, 1, 17, 0), Assert.Single(await driver.ClaimAllAsync()).ScheduledAt());
    }

    [Fact]
    public async Task All_pushes_missed_fires_oldest_first()
    {
        var time = new FakeTimeProvider(Utc(2026, 1, 1, 16, 10));
        var driver = new InMemoryJobDriver(timeProvider: time);
        var seed = new JobPushRecord { Id = JobId.New(), Name = "seed", Payload = "{}"u8.ToArray() };
        Assert.True(await driver.TryPushScheduledAsync(PingKey, Utc(2026, 1, 1, 13, 0), seed, default));
        await driver.ClaimAllAsync();

        await using var node = new SchedulerNode(driver, time, Hourly(ScheduleAccuracy.All));
        await node.StartAsync();
        await node.SettledAsync();
        Assert.Equal([Utc(2026, 1, 1, 14, 0), Utc(2026, 1, 1, 15, 0), Utc(2026, 1, 1, 16, 0)],
            node.Probe.Handled.Where(h => h.Pushed).Select(h => h.Fire));
        Assert.Equal(3, (await driver.ClaimAllAsync()).Count);
    }

    [Fact]
    public async Task Latest_catch_up_carries_the_next_fire_time()
    {
        var time = new FakeTimeProvider(Utc(2026, 1, 1, 16, 10));
        var driver = new InMemoryJobDriver(timeProvider: time);
        var seed = new JobPushRecord { Id = JobId.New(), Name = "seed", Payload = "{}"u8.ToArray() };
        Assert.True(await driver.TryPushScheduledAsync(PingKey, Utc(2026, 1, 1, 11, 0), seed, default));
        await driver.ClaimAllAsync();

        await using var node = new SchedulerNode(driver, time, Hourly());
        await node.StartAsync();
        await node.SettledAsync();
        var job = Assert.Single(await driver.ClaimAllAsync());
        Assert.Equal(Utc(2026, 1, 1, 16, 0), job.ScheduledAt());
        Assert.Equal(Utc(2026, 1, 1, 17, 0), Parse(job.Headers![JobHeaders.NextScheduledAt]));
    }

    [Fact]
    public async Task Store_errors_are_retried_with_backoff_and_no_fire_is_lost()
    {
        var time = new FakeTimeProvider(Utc(2026, 1, 1, 10, 59, 30));
        var inner = new InMemoryJobDriver(timeProvider: time);
        var driver = new FlakyStoreDriver(inner, readFailures: 1, pushFailures: 2);
        await using var node = new SchedulerNode(driver, time, Hourly());
        await node.StartAsync();

        await node.Probe.RetriesAsync(1); // GetLastFireTime failed
        await node.AdvanceAsync(TimeSpan.FromSeconds(1));
        await node.Probe.WaitingForAsync(PingKey, Utc(2026, 1, 1, 11, 0));

        time.Advance(TimeSpan.FromSeconds(29)); // 11:00: the push fails twice
        await node.Probe.RetriesAsync(2);
        time.Advance(TimeSpan.FromSeconds(1));
        await node.Probe.RetriesAsync(3);
        await node.AdvanceAsync(TimeSpan.FromSeconds(2));
        await node.Probe.WaitingForAsync(PingKey, Utc(2026, 1, 1, 12, 0));

        Assert.Equal([TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2)], node.Probe.Retries.Select(r => r.Delay));
        Assert.Equal(5, driver.Calls);
        var job = Assert.Single(await inner.ClaimAllAsync());
        Assert.Equal(Utc(2026, 1, 1, 11, 0), job.ScheduledAt());
        Assert.Equal(Utc(2026, 1, 1, 11, 0), job.RunAt); // the fire time, though pushed at 11:00:03
    }

    [Fact]
    public async Task The_scheduler_waits_for_the_store_to_be_ready()
    {
        var time = new FakeTimeProvider(Utc(2026, 1, 1, 10, 30));
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var driver = new FlakyStoreDriver(new InMemoryJobDriver(timeProvider: time), 0, 0) { ReadyGate = gate.Task };
        await using var node = new SchedulerNode(driver, time, Hourly());
        await node.StartAsync();
        await driver.ReadyRequested.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(0, driver.Calls);

        gate.SetResult();
        await node.SettledAsync();
        Assert.Equal(1, driver.Calls); // read the last fire time
    }

    [Fact]
    public async Task A_store_that_never_becomes_ready_stops_the_scheduler_without_touching_the_store()
    {
        var time = new FakeTimeProvider(Utc(2026, 1, 1, 10, 30));
        var driver = new FlakyStoreDriver(new InMemoryJobDriver(timeProvider: time), 0, 0)
        {
            ReadyGate = Task.FromException(new JobQueueUnavailableException("migrations failed")),
        };
        var node = new SchedulerNode(driver, time, Hourly());
        await node.StartAsync();
        await driver.ReadyRequested.Task.WaitAsync(TimeSpan.FromSeconds(30));
        time.Advance(TimeSpan.FromHours(2));
        await node.StopAsync();
        await node.DisposeAsync();
        Assert.Equal(0, driver.Calls);
        Assert.Empty(node.Probe.Handled);
    }

    [Fact]
    public async Task A_driver_without_a_schedule_store_fails_at_start_with_an_actionable_message()
    {
        var time = new FakeTimeProvider(Utc(2026, 1, 1));
        await using var node = new SchedulerNode(new DelegatingDriver(new InMemoryJobDriver(timeProvider: time)), time, Hourly());
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(node.StartAsync);
        Assert.Contains("IJobScheduleStore", ex.Message, StringComparison.Ordinal);
        Assert.Contains("remove AddSchedule", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Every_entry_of_a_schedule_runs_independently()
    {
        var time = new FakeTimeProvider(Utc(2026, 1, 1, 0, 0, 30));
        var driver = new InMemoryJobDriver(timeProvider: time);
        var schedule = new JobSchedule()
            .Add(new Ping("a"), Schedule.EveryMinute(), key: "a")
            .Add(new Ping("b"), Schedule.EveryMinute(second: 30), key: "b")
            .Add(new Report("r"), Schedule.Cron("*/2 * * * *"));
        await using var node = new SchedulerNode(driver, time, schedule);
        await node.StartAsync();
        await node.SettledAsync();
        for (var i = 0; i < 8; i++)
        {
            await node.AdvanceAsync(TimeSpan.FromSeconds(30)); // up to 00:04:30
        }

        var jobs = await driver.ClaimAllAsync();
        Assert.Equal(4, jobs.Count(j => j.Headers![JobHeaders.ScheduleEntry] == "a")); // 1, 2, 3, 4
        Assert.Equal(4, jobs.Count(j => j.Headers![JobHeaders.ScheduleEntry] == "b")); // 1:30 … 4:30
        Assert.Equal(2, jobs.Count(j => j.Name == "test.report")); // 2, 4
        Assert.Equal("test.report@cron */2 * * * * UTC", jobs.First(j => j.Name == "test.report").Headers![JobHeaders.ScheduleEntry]);
    }

    [Theory]
    [InlineData("Europe/London", 2026, 10, 24, 1, 30, new[] { "2026-10-25T00:30:00Z" })]  // 01:30 repeats: pushed once
    [InlineData("Europe/London", 2026, 3, 28, 1, 30, new[] { "2026-03-29T01:00:00Z" })]   // 01:30 skipped: pushed at 02:00 BST
    [InlineData("America/New_York", 2026, 10, 31, 1, 30, new[] { "2026-11-01T05:30:00Z" })]
    [InlineData("America/New_York", 2026, 3, 7, 2, 30, new[] { "2026-03-08T07:00:00Z" })]
    public async Task Across_a_daylight_saving_change_the_scheduler_pushes_the_day_once(string zone, int y, int m, int d, int hour, int minute, string[] expected)
    {
        // Start on the evening before the change (UTC), run 24 h in 15-minute steps with a daily schedule.
        var time = new FakeTimeProvider(Utc(y, m, d, 12, 0));
        var driver = new InMemoryJobDriver(timeProvider: time);
        var schedule = new JobSchedule().Add(new Ping(), Schedule.Daily(hour, minute, TimeZoneInfo.FindSystemTimeZoneById(zone)), ScheduleAccuracy.All);
        await using var node = new SchedulerNode(driver, time, schedule);
        await node.StartAsync();
        await node.SettledAsync();
        await Cluster.AdvanceAsync(time, TimeSpan.FromHours(24), TimeSpan.FromMinutes(15), node);

        var jobs = await driver.ClaimAllAsync();
        Assert.Equal(expected.Select(Parse), jobs.Select(j => j.ScheduledAt().ToUniversalTime()));
        Assert.Equal(TimeZoneInfo.FindSystemTimeZoneById(zone).GetUtcOffset(jobs[0].ScheduledAt()), jobs[0].ScheduledAt().Offset);
    }

    [Fact]
    public async Task Stop_ends_the_loops_and_nothing_more_is_pushed()
    {
        var time = new FakeTimeProvider(Utc(2026, 1, 1, 10, 30));
        var driver = new InMemoryJobDriver(timeProvider: time);
        var node = new SchedulerNode(driver, time, Hourly());
        await node.StartAsync();
        await node.SettledAsync();
        await node.StopAsync();
        time.Advance(TimeSpan.FromHours(3));
        await node.DisposeAsync();
        Assert.Equal(0, (await driver.GetCountsAsync(default)).Pending);
        Assert.Empty(node.Probe.Handled);
    }
    /// <summary>
    /// A host's stop cut short (its shutdown timeout passed) while the scheduler waits on a store call that ignores its
    /// token (a connection stuck on a dead socket), then the container's disposal: the disposal must return within its
    /// bound instead of waiting for the stuck call (as the presence service's does, commit f5c6391).
    /// </summary>
    [Fact]
    public async Task Disposing_a_scheduler_whose_stop_was_cut_short_during_a_stuck_store_call_returns()
    {
        var time = new FakeTimeProvider(Utc(2026, 1, 1, 10, 30));
        var driver = new HoldingScheduleStore(new InMemoryJobDriver(timeProvider: time));
        var node = new SchedulerNode(driver, time, Hourly());
        await node.StartAsync();
        await driver.Entered.WaitAsync(TimeSpan.FromSeconds(30));
        using var cut = new CancellationTokenSource();
        await cut.CancelAsync();
        try
        {
            var failure = await Record.ExceptionAsync(async () =>
            {
                await node.Scheduler.StopAsync(cut.Token).WaitAsync(TimeSpan.FromSeconds(30));
                await node.Scheduler.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));
            });
            Assert.True(failure is null, $"Stopping or disposing the scheduler failed: {failure}");
        }
        finally
        {
            driver.Release();
        }
    }

    /// <summary>A schedule store whose reads of the last fire time wait for <see cref="Release"/>, ignoring their token.</summary>
    private sealed class HoldingScheduleStore(InMemoryJobDriver inner) : DelegatingDriver(inner), IJobScheduleStore
    {
        private readonly TaskCompletionSource _entered = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Entered => _entered.Task;

        public void Release() => _release.TrySetResult();

        public async Task<DateTimeOffset?> GetLastFireTimeAsync(string entryKey, CancellationToken cancellationToken)
        {
            _entered.TrySetResult();
            await _release.Task;
            return await Inner.GetLastFireTimeAsync(entryKey, cancellationToken);
        }

        public Task<bool> TryPushScheduledAsync(string entryKey, DateTimeOffset fireTime, JobPushRecord job, CancellationToken cancellationToken)
            => Inner.TryPushScheduledAsync(entryKey, fireTime, job, cancellationToken);
    }
}
