using Jobs.Sdk.Drivers;
using Jobs.Sdk.InMemory;
using Microsoft.Extensions.Time.Testing;

namespace Jobs.Sdk.Tests.Admin;

/// <summary>The in-memory admin store keeps its catalogs as the PostgreSQL one does: an aged audit log, stale and forgotten schedule entries.</summary>
public sealed class InMemoryRetentionTests
{
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Audit_entries_older_than_the_retention_are_dropped()
    {
        var time = new FakeTimeProvider(Start);
        IJobAdminStore store = new InMemoryJobDriver(new InMemoryJobDriverOptions { Retention = new RetentionPolicy { AuditLog = TimeSpan.FromDays(30) } }, time);
        await store.AppendAuditAsync(new AuditEntry { At = default, Action = "old", Target = "q" }, default);
        time.Advance(TimeSpan.FromDays(20));
        await store.AppendAuditAsync(new AuditEntry { At = default, Action = "recent", Target = "q" }, default);
        time.Advance(TimeSpan.FromDays(11));

        Assert.Equal(["recent"], (await store.GetAuditLogAsync(10, default)).Select(e => e.Action));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RetentionPolicy { AuditLog = TimeSpan.Zero });
    }

    [Fact]
    public async Task An_entry_goes_stale_after_its_time_to_live_and_is_forgotten_after_seven_days_unless_paused()
    {
        var time = new FakeTimeProvider(Start);
        IJobAdminStore store = new InMemoryJobDriver(timeProvider: time);
        await store.PublishSchedulesAsync([Entry("removed"), Entry("paused"), Entry("kept")], default);
        Assert.Equal(1, await store.SetSchedulePausedAsync("paused", true, default));
        Assert.All(await store.GetSchedulesAsync(default), e => Assert.False(e.IsStale));

        time.Advance(TimeSpan.FromSeconds(31));
        await store.PublishSchedulesAsync([Entry("kept")], default);
        var listed = (await store.GetSchedulesAsync(default)).ToDictionary(e => e.EntryKey);
        Assert.True(listed["removed"].IsStale && listed["paused"].IsStale);
        Assert.False(listed["kept"].IsStale);

        time.Advance(TimeSpan.FromDays(7));
        await store.PublishSchedulesAsync([Entry("kept")], default);
        Assert.Equal(["kept", "paused"], (await store.GetSchedulesAsync(default)).Select(e => e.EntryKey).Order(StringComparer.Ordinal));
    }

    private static ScheduleRegistration Entry(string key) => new()
    {
        QueueName = "default", EntryKey = key, JobName = "report", Description = "hourly", Payload = "{}"u8.ToArray(),
        TimeToLive = TimeSpan.FromSeconds(30),
    };
}
