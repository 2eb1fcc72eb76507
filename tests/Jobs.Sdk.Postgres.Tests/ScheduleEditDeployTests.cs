namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// A rolling deploy that edits a daily entry's time, on real PostgreSQL with fake clocks: the old version's node fires the
/// old time until it stops, the new version's node starts mid-day. The README (Entry keys) states what each key choice
/// does on the day of the edit; these tests pin it. An explicit <c>key:</c> keeps one entry: its new schedule continues
/// from the entry's last fire (a time moved earlier past now is caught up per the accuracy, once). A default key is a new
/// entry that starts from now: a time moved earlier past now is not run that day.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class ScheduleEditDeployTests(PostgresFixture fixture)
{
    private const string Schema = "jobs_test";
    private const string Keyed = "digest";
    private static readonly DateTimeOffset Day1 = new(2031, 5, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Moved_earlier_past_the_deploy_time_a_keyed_entry_catches_up_once_and_a_default_keyed_one_skips_the_day()
    {
        var (keyed, byDefault) = await DeployAsync(oldHour: 4, newHour: 3);

        var day2 = Day1.AddDays(1);
        Assert.Equal([Day1.AddHours(4), day2.AddHours(3), day2.AddDays(1).AddHours(3)], keyed);
        Assert.Equal([Day1.AddHours(4), day2.AddDays(1).AddHours(3)], byDefault);
    }

    [Fact]
    public async Task Moved_later_after_the_old_time_fired_both_kinds_of_entry_run_again_that_day()
    {
        var (keyed, byDefault) = await DeployAsync(oldHour: 3, newHour: 4);

        var day2 = Day1.AddDays(1);
        DateTimeOffset[] expected = [Day1.AddHours(3), day2.AddHours(3), day2.AddHours(4), day2.AddDays(1).AddHours(4)];
        Assert.Equal(expected, keyed);
        Assert.Equal(expected, byDefault);
    }

    /// <summary>
    /// The old version runs from day 1 02:50 to day 2 03:30 (daily at <paramref name="oldHour"/>); the new version (daily at
    /// <paramref name="newHour"/>) starts at day 2 03:30, as the old one stops, and runs to day 3 05:00. Returns the fire
    /// times pushed for the keyed entry and for the default-keyed one, in order.
    /// </summary>
    private async Task<(DateTimeOffset[] Keyed, DateTimeOffset[] ByDefault)> DeployAsync(int oldHour, int newHour)
    {
        var queueName = "schededit_" + Guid.NewGuid().ToString("N")[..8];
        var deployAt = Day1.AddDays(1).AddHours(3).AddMinutes(30);
        var pushed = new List<(string Key, DateTimeOffset Fire)>();
        await using (var old = PostgresSchedulerNode.Create(fixture, Schema, queueName, Day1.AddHours(2).AddMinutes(50), s => s
            .Add(new ValueJob(1), Schedule.Daily(oldHour), key: Keyed)
            .Add(new ValueJob(2), Schedule.Daily(oldHour))))
        {
            await old.StartAsync();
            await old.SettledAsync();
            old.Time.Advance(TimeSpan.FromHours(2)); // 04:50: day 1's fire
            await old.SettledAsync();
            old.Time.Advance(deployAt - old.Time.GetUtcNow()); // day 2 03:30
            await old.SettledAsync();
            pushed.AddRange(old.Probe.Handled.Where(h => h.Pushed).Select(h => (h.Key, h.Fire)));
        }

        await using var @new = PostgresSchedulerNode.Create(fixture, Schema, queueName, deployAt, s => s
            .Add(new ValueJob(1), Schedule.Daily(newHour), key: Keyed)
            .Add(new ValueJob(2), Schedule.Daily(newHour)));
        await @new.StartAsync();
        await @new.SettledAsync();
        @new.Time.Advance(TimeSpan.FromHours(2)); // day 2 05:30
        await @new.SettledAsync();
        @new.Time.Advance(TimeSpan.FromDays(1)); // day 3 05:30
        await @new.SettledAsync();
        pushed.AddRange(@new.Probe.Handled.Where(h => h.Pushed).Select(h => (h.Key, h.Fire)));

        return ([.. pushed.Where(p => p.Key == Keyed).Select(p => p.Fire).Order()],
            [.. pushed.Where(p => p.Key != Keyed).Select(p => p.Fire).Order()]);
    }
}
