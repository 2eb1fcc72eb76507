using Jobs.Sdk.Drivers;
using Jobs.Sdk.InMemory;
using Microsoft.Extensions.Time.Testing;
using static Jobs.Sdk.Tests.Scheduling.Times;

namespace Jobs.Sdk.Tests.Scheduling;

/// <summary>The in-memory driver's <see cref="IJobScheduleStore"/>.</summary>
public sealed class InMemoryScheduleStoreTests
{
    private static JobPushRecord Record(JobId? id = null) => new() { Id = id ?? JobId.New(), Name = "test.ping", Payload = "{}"u8.ToArray() };

    [Fact]
    public async Task A_fire_is_recorded_once_with_its_job()
    {
        var driver = new InMemoryJobDriver(timeProvider: new FakeTimeProvider(Utc(2026, 1, 1, 12, 0)));
        Assert.Null(await driver.GetLastFireTimeAsync("k", default));
        Assert.True(await driver.TryPushScheduledAsync("k", Utc(2026, 1, 1, 11, 0), Record(), default));
        Assert.False(await driver.TryPushScheduledAsync("k", Utc(2026, 1, 1, 11, 0), Record(), default));
        Assert.False(await driver.TryPushScheduledAsync("k", new DateTimeOffset(2026, 1, 1, 12, 0, 0, TimeSpan.FromHours(1)), Record(), default)); // same instant, other offset
        Assert.True(await driver.TryPushScheduledAsync("other", Utc(2026, 1, 1, 11, 0), Record(), default));
        Assert.Equal(2, (await driver.GetCountsAsync(default)).Pending);
        Assert.Equal(Utc(2026, 1, 1, 11, 0), await driver.GetLastFireTimeAsync("k", default));
    }

    [Fact]
    public async Task Last_fire_time_is_the_latest_even_when_fires_arrive_out_of_order()
    {
        var driver = new InMemoryJobDriver(timeProvider: new FakeTimeProvider(Utc(2026, 1, 1, 12, 0)));
        Assert.True(await driver.TryPushScheduledAsync("k", Utc(2026, 1, 1, 11, 0), Record(), default));
        Assert.True(await driver.TryPushScheduledAsync("k", Utc(2026, 1, 1, 10, 0), Record(), default));
        Assert.Equal(Utc(2026, 1, 1, 11, 0), await driver.GetLastFireTimeAsync("k", default));
    }

    [Fact]
    public async Task Fires_older_than_the_record_window_count_as_recorded()
    {
        var driver = new InMemoryJobDriver(timeProvider: new FakeTimeProvider(Utc(2026, 1, 10)));
        Assert.True(await driver.TryPushScheduledAsync("k", Utc(2026, 1, 5), Record(), default));
        Assert.False(await driver.TryPushScheduledAsync("k", Utc(2026, 1, 3), Record(), default));
        Assert.Equal(1, (await driver.GetCountsAsync(default)).Pending);
    }

    [Fact]
    public async Task A_push_that_fails_leaves_the_fire_unrecorded()
    {
        var driver = new InMemoryJobDriver(timeProvider: new FakeTimeProvider(Utc(2026, 1, 1)));
        var id = JobId.New();
        await driver.PushAsync([Record(id)], null, default);
        await Assert.ThrowsAsync<InvalidOperationException>(() => driver.TryPushScheduledAsync("k", Utc(2026, 1, 1), Record(id), default));
        Assert.Null(await driver.GetLastFireTimeAsync("k", default));
        Assert.True(await driver.TryPushScheduledAsync("k", Utc(2026, 1, 1), Record(), default));
    }

    [Fact]
    public async Task Concurrent_pushes_of_the_same_fire_store_one_job()
    {
        var driver = new InMemoryJobDriver(timeProvider: new FakeTimeProvider(Utc(2026, 1, 1)));
        var results = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(() => driver.TryPushScheduledAsync("k", Utc(2026, 1, 1), Record(), default))));
        Assert.Equal(1, results.Count(r => r));
        Assert.Equal(1, (await driver.GetCountsAsync(default)).Pending);
    }
}
