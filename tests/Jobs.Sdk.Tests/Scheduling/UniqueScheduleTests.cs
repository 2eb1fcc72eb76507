using Jobs.Sdk.Drivers;
using Jobs.Sdk.InMemory;
using Jobs.Sdk.Testing;
using Microsoft.Extensions.Time.Testing;
using static Jobs.Sdk.Tests.Scheduling.Times;

namespace Jobs.Sdk.Tests.Scheduling;

/// <summary>
/// A unique job type on a schedule keeps the README's promise: at most one job of a key waiting or running (and, with
/// UniqueFor, for that long after it finished), whoever pushed it; a fire whose key is held is recorded and pushes nothing.
/// </summary>
public sealed class UniqueScheduleTests
{
    private const string Entry = "unique-hourly";

    private static async Task CompleteAsync(InMemoryJobDriver driver, ClaimedJob job)
        => await driver.CompleteAsync("test", [new JobOutcome(job.Id, JobOutcomeKind.Completed, job.Attempt, LeaseToken: job.LeaseToken)], default);

    [Fact]
    public async Task A_fire_whose_key_is_held_by_a_waiting_job_pushes_nothing_and_a_scheduled_job_holds_its_key()
    {
        var time = new FakeTimeProvider(Utc(2026, 1, 1, 10, 30));
        var driver = new InMemoryJobDriver(timeProvider: time);
        await using var node = new SchedulerNode(driver, time, new JobSchedule().Add(new UniqueValueJob(7), Schedule.Hourly(), key: Entry));
        var holder = await node.Queue.TryPushAsync(new UniqueValueJob(7));
        Assert.True(holder.Inserted);

        await node.StartAsync();
        await node.SettledAsync();
        await node.AdvanceAsync(TimeSpan.FromMinutes(30)); // 11:00 fires while the holder waits

        Assert.Equal(Utc(2026, 1, 1, 11, 0), await driver.GetLastFireTimeAsync(Entry, default));
        Assert.Equal(1, (await driver.GetCountsAsync(default)).Pending);
        Assert.Equal([(Entry, Utc(2026, 1, 1, 11, 0), false)], node.Probe.Handled);
        Assert.Equal([(Entry, Utc(2026, 1, 1, 11, 0), new ScheduledFireResult(ScheduledFireOutcome.KeyHeld, holder.Id))], node.Probe.Results);

        // The holder runs and finishes (UniqueFor 0: the key is free again); 12:00 pushes, and that job holds the key.
        var running = Assert.Single(await driver.ClaimAllAsync());
        Assert.Equal(holder.Id, running.Id);
        await CompleteAsync(driver, running);
        await node.AdvanceAsync(TimeSpan.FromHours(1));
        Assert.Equal(1, node.Probe.PushedCount(Entry));
        var scheduled = Assert.Single(await driver.ClaimAllAsync());
        Assert.Equal(Utc(2026, 1, 1, 12, 0), scheduled.ScheduledAt());
        Assert.Equal(new JobPushResult(scheduled.Id, false), await node.Queue.TryPushAsync(new UniqueValueJob(7)));

        // Another payload is another key.
        Assert.True((await node.Queue.TryPushAsync(new UniqueValueJob(8))).Inserted);
    }

    [Fact]
    public async Task UniqueFor_after_a_scheduled_job_finished_holds_against_the_next_fires_until_it_passes()
    {
        var time = new FakeTimeProvider(Utc(2026, 1, 1, 10, 50));
        var driver = new InMemoryJobDriver(timeProvider: time); // default retention: completed jobs are deleted
        await using var node = new SchedulerNode(driver, time,
            new JobSchedule().Add(new HeldValueJob(1, 0), Schedule.Cron("*/30 * * * *"), key: Entry));
        await node.StartAsync();
        await node.SettledAsync();
        await node.AdvanceAsync(TimeSpan.FromMinutes(10)); // 11:00 pushes

        var first = Assert.Single(await driver.ClaimAllAsync());
        await CompleteAsync(driver, first); // finished at 11:00: the key holds until 12:00

        await node.AdvanceAsync(TimeSpan.FromMinutes(30)); // 11:30: held
        Assert.Equal(Utc(2026, 1, 1, 11, 30), await driver.GetLastFireTimeAsync(Entry, default));
        Assert.Equal(0, (await driver.GetCountsAsync(default)).Pending);
        Assert.Equal(new JobPushResult(first.Id, false), await node.Queue.TryPushAsync(new HeldValueJob(1, 99)));
        Assert.Equal(new ScheduledFireResult(ScheduledFireOutcome.KeyHeld, first.Id), node.Probe.Results[^1].Result);

        await node.AdvanceAsync(TimeSpan.FromMinutes(30)); // 12:00: released, pushes
        var second = Assert.Single(await driver.ClaimAllAsync());
        Assert.Equal(Utc(2026, 1, 1, 12, 0), second.ScheduledAt());
        Assert.Equal(
            [(Entry, Utc(2026, 1, 1, 11, 0), true), (Entry, Utc(2026, 1, 1, 11, 30), false), (Entry, Utc(2026, 1, 1, 12, 0), true)],
            node.Probe.Handled);
    }

    [Fact]
    public async Task Two_nodes_record_a_held_fire_once_and_neither_pushes_it_after_the_key_is_released()
    {
        var time = new FakeTimeProvider(Utc(2026, 1, 1, 10, 30));
        var driver = new InMemoryJobDriver(timeProvider: time);
        JobSchedule Schedule() => new JobSchedule().Add(new UniqueValueJob(7), Jobs.Sdk.Schedule.Hourly(), ScheduleAccuracy.All, key: Entry);
        await using var a = new SchedulerNode(driver, time, Schedule());
        await using var b = new SchedulerNode(driver, time, Schedule());
        var holder = await a.Queue.TryPushAsync(new UniqueValueJob(7));
        await a.StartAsync();
        await b.StartAsync();
        await a.SettledAsync();
        await b.SettledAsync();

        await Cluster.AdvanceAsync(time, TimeSpan.FromMinutes(30), TimeSpan.FromHours(1), a, b); // 11:00, held
        Assert.Equal(0, a.Probe.PushedCount(Entry) + b.Probe.PushedCount(Entry));
        Assert.Single(a.Probe.Handled);
        Assert.Single(b.Probe.Handled);

        // The holder finishes; a node that retries 11:00 now finds it recorded.
        var running = Assert.Single(await driver.ClaimAllAsync());
        Assert.Equal(holder.Id, running.Id);
        await CompleteAsync(driver, running);
        var retry = new JobPushRecord { Id = JobId.New(), Name = UniqueValueJob.JobName, Payload = "{\"value\":7}"u8.ToArray() };
        Assert.False(await driver.TryPushScheduledAsync(Entry, Utc(2026, 1, 1, 11, 0), retry, default));
        Assert.Equal(0, (await driver.GetCountsAsync(default)).Pending);

        await Cluster.AdvanceAsync(time, TimeSpan.FromHours(1), TimeSpan.FromHours(1), a, b); // 12:00, free
        Assert.Equal(1, a.Probe.PushedCount(Entry) + b.Probe.PushedCount(Entry));
        Assert.Equal(Utc(2026, 1, 1, 12, 0), Assert.Single(await driver.ClaimAllAsync()).ScheduledAt());
    }
}
