using System.Text.Json;
using Jobs.Sdk.InMemory;
using Microsoft.Extensions.Time.Testing;
using static Jobs.Sdk.Tests.Scheduling.Times;

namespace Jobs.Sdk.Tests.Scheduling;

/// <summary>A job type declaring its queue (<c>[Job(Queue = "reports")]</c>), written by hand.</summary>
public sealed record QueuedPing(string Tag = "") : IJob<QueuedPing>
{
    public const string QueueName = "reports";

    public static string JobName => "test.queued-ping";

    public static string? Queue => QueueName;

    public static void Serialize(Utf8JsonWriter writer, QueuedPing job)
    {
        writer.WriteStartObject();
        writer.WriteString("tag", job.Tag);
        writer.WriteEndObject();
    }

    public static QueuedPing Deserialize(ReadOnlySpan<byte> utf8Json)
    {
        using var doc = JsonDocument.Parse(utf8Json.ToArray());
        return new QueuedPing(doc.RootElement.GetProperty("tag").GetString() ?? "");
    }
}

/// <summary>Issue 16: a scheduled job goes to its type's queue, like a pushed one.</summary>
public sealed class QueuedScheduleTests
{
    [Fact]
    public async Task A_scheduled_job_is_pushed_to_the_queue_its_type_declares_and_fires_once_per_time()
    {
        var time = new FakeTimeProvider(Utc(2026, 1, 1, 10, 30));
        var driver = new InMemoryJobDriver(timeProvider: time);
        var reports = (InMemoryJobDriver)driver.ForQueue(QueuedPing.QueueName);
        var schedule = new JobSchedule().Add(new QueuedPing("r"), Schedule.Hourly());
        var key = Assert.Single(schedule.Entries).Key;
        await using var node = new SchedulerNode(driver, time, schedule);
        await using var other = new SchedulerNode(driver, time, schedule); // a second node: still one job per fire

        await node.StartAsync();
        await other.StartAsync();
        await node.SettledAsync();
        await other.SettledAsync();
        time.Advance(TimeSpan.FromMinutes(30));
        await node.Probe.WaitingForAsync(key, Utc(2026, 1, 1, 12, 0));
        await other.Probe.WaitingForAsync(key, Utc(2026, 1, 1, 12, 0));

        Assert.Empty(await driver.ClaimAllAsync());
        var job = Assert.Single(await reports.ClaimAllAsync());
        Assert.Equal("test.queued-ping", job.Name);
        Assert.Equal(Utc(2026, 1, 1, 11, 0), job.ScheduledAt());
        Assert.Equal(Utc(2026, 1, 1, 11, 0), await reports.GetLastFireTimeAsync(key, default));
    }
}
