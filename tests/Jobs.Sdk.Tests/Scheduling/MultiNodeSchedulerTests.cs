using Jobs.Sdk.InMemory;
using Microsoft.Extensions.Time.Testing;
using static Jobs.Sdk.Tests.Scheduling.Times;

namespace Jobs.Sdk.Tests.Scheduling;

/// <summary>Several schedulers on one store: each fire is pushed exactly once, and losing a node loses no fire.</summary>
public sealed class MultiNodeSchedulerTests
{
    private const string PingKey = "ping";
    private const string ReportKey = "test.report@cron */5 * * * * UTC";

    private static JobSchedule Schedule_() => new JobSchedule()
        .Add(new Ping("every-minute"), Schedule.EveryMinute(), ScheduleAccuracy.All, key: PingKey)
        .Add(new Report("five"), Schedule.Cron("*/5 * * * *"));

    [Fact]
    public async Task Three_schedulers_push_each_fire_exactly_once_and_survivors_carry_on_without_a_gap()
    {
        var start = Utc(2026, 1, 1, 0, 0, 30);
        var time = new FakeTimeProvider(start);
        var driver = new InMemoryJobDriver(timeProvider: time);
        var nodes = new[]
        {
            new SchedulerNode(driver, time, Schedule_()),
            new SchedulerNode(driver, time, Schedule_()),
            new SchedulerNode(driver, time, Schedule_()),
        };
        try
        {
            foreach (var node in nodes)
            {
                await node.StartAsync();
                await node.SettledAsync();
            }

            // One simulated hour with all three nodes: 00:01 … 01:00.
            await Cluster.AdvanceAsync(time, TimeSpan.FromMinutes(60) - TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(30), nodes);

            var firstHour = Enumerable.Range(1, 60).Select(m => start.AddSeconds(-30).AddMinutes(m)).ToArray();
            foreach (var node in nodes)
            {
                // Every node tried every fire ...
                Assert.Equal(firstHour, node.Probe.Handled.Where(h => h.Key == PingKey).Select(h => h.Fire));
                Assert.Equal(12, node.Probe.Handled.Count(h => h.Key == ReportKey));
            }

            // ... and exactly one of them pushed each.
            foreach (var fire in firstHour)
            {
                Assert.Equal(1, nodes.Sum(n => n.Probe.Handled.Count(h => h.Key == PingKey && h.Fire == fire && h.Pushed)));
            }

            var jobs = await driver.ClaimAllAsync();
            Assert.Equal(firstHour, jobs.Where(j => j.Name == "test.ping").Select(j => j.ScheduledAt()).Order());
            Assert.Equal(
                Enumerable.Range(1, 12).Select(i => start.AddSeconds(-30).AddMinutes(5 * i)),
                jobs.Where(j => j.Name == "test.report").Select(j => j.ScheduledAt()).Order());

            // One node goes away; the other two carry on for another half hour.
            await nodes[0].StopAsync();
            var survivors = nodes[1..];
            var before = nodes[0].Probe.Handled.Count;
            await Cluster.AdvanceAsync(time, TimeSpan.FromMinutes(30), TimeSpan.FromSeconds(30), survivors);

            Assert.Equal(before, nodes[0].Probe.Handled.Count);
            var secondHalf = Enumerable.Range(61, 30).Select(m => start.AddSeconds(-30).AddMinutes(m)).ToArray();
            jobs = await driver.ClaimAllAsync();
            Assert.Equal(secondHalf, jobs.Where(j => j.Name == "test.ping").Select(j => j.ScheduledAt()).Order());
            Assert.Equal(6, jobs.Count(j => j.Name == "test.report"));
            foreach (var fire in secondHalf)
            {
                Assert.Equal(1, survivors.Sum(n => n.Probe.Handled.Count(h => h.Key == PingKey && h.Fire == fire && h.Pushed)));
                Assert.All(survivors, n => Assert.Contains(n.Probe.Handled, h => h.Key == PingKey && h.Fire == fire));
            }

            Assert.Equal(secondHalf[^1], await driver.GetLastFireTimeAsync(PingKey, default));
        }
        finally
        {
            foreach (var node in nodes)
            {
                await node.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task A_node_that_dies_between_fires_is_covered_and_a_restarted_node_does_not_repeat_fires()
    {
        var start = Utc(2026, 1, 1, 0, 0, 30);
        var time = new FakeTimeProvider(start);
        var driver = new InMemoryJobDriver(timeProvider: time);
        var a = new SchedulerNode(driver, time, Schedule_());
        var b = new SchedulerNode(driver, time, Schedule_());
        await a.StartAsync();
        await b.StartAsync();
        await a.SettledAsync();
        await b.SettledAsync();

        await Cluster.AdvanceAsync(time, TimeSpan.FromMinutes(10) - TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(1), a, b); // to 00:10
        await a.StopAsync();
        await a.DisposeAsync();
        await Cluster.AdvanceAsync(time, TimeSpan.FromMinutes(10), TimeSpan.FromMinutes(1), b); // to 00:20, b alone

        // a comes back (a new process) and joins b: it resumes from the store, pushing nothing twice.
        await using var again = new SchedulerNode(driver, time, Schedule_());
        await again.StartAsync();
        await again.SettledAsync();
        await Cluster.AdvanceAsync(time, TimeSpan.FromMinutes(10), TimeSpan.FromMinutes(1), b, again); // to 00:30
        await b.DisposeAsync();

        var jobs = await driver.ClaimAllAsync();
        Assert.Equal(Enumerable.Range(1, 30).Select(m => Utc(2026, 1, 1, 0, m)), jobs.Where(j => j.Name == "test.ping").Select(j => j.ScheduledAt()).Order());
        Assert.Equal(6, jobs.Count(j => j.Name == "test.report"));
        Assert.DoesNotContain(again.Probe.Handled, h => h.Fire <= Utc(2026, 1, 1, 0, 20));
    }
}
