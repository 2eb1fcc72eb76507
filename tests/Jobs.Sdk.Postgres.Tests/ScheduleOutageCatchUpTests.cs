using Jobs.Sdk.Testing;
using Npgsql;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// A running scheduler through a database outage across several fire times, on real PostgreSQL (reached through a proxy
/// that refuses connections for the outage) with a fake clock. README (<c>ScheduleAccuracy</c>): <see cref="ScheduleAccuracy.Latest"/>,
/// the default, pushes one catch-up job for the most recent missed fire time, as it does when a scheduler starts after
/// downtime; <see cref="ScheduleAccuracy.All"/> pushes every missed fire, oldest first.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class ScheduleOutageCatchUpTests(PostgresFixture fixture)
{
    private const string Schema = "jobs_test";
    private const string Key = "hourly";

    // Fake time, well in the future of the database clock: the pushed jobs are never due, nothing depends on that.
    private static readonly DateTimeOffset Start = new(2031, 3, 1, 10, 30, 0, TimeSpan.Zero);

    [Theory]
    [InlineData(ScheduleAccuracy.Latest, new[] { 11, 15 })]
    [InlineData(ScheduleAccuracy.All, new[] { 11, 12, 13, 14, 15 })]
    public async Task Fires_missed_in_a_database_outage_are_caught_up_per_the_accuracy_by_a_scheduler_that_ran_through_it(ScheduleAccuracy accuracy, int[] hours)
    {
        var queueName = "schedout_" + Guid.NewGuid().ToString("N")[..8];
        await using var proxy = TcpProxy.Start("127.0.0.1", new NpgsqlConnectionStringBuilder(fixture.ConnectionString).Port);
        var through = new NpgsqlConnectionStringBuilder(fixture.ConnectionString) { Port = proxy.Port, Timeout = 5 }.ConnectionString;
        await using var node = PostgresSchedulerNode.Create(fixture, Schema, queueName, Start, s => s.Add(new ValueJob(1), Schedule.Hourly(), accuracy, key: Key),
            PostgresJobsBuilderExtensions.CreateDataSource(through));
        await node.StartAsync();
        await node.SettledAsync();
        node.Time.Advance(TimeSpan.FromHours(1)); // 11:30: 11:00 is pushed, the entry's history
        await node.SettledAsync();

        // The database is out of reach from 11:30 to 15:30: the fires of 12:00, 13:00, 14:00 and 15:00 fall in the outage.
        proxy.RefuseConnections();
        proxy.CutAll();
        node.Time.Advance(TimeSpan.FromMinutes(30)); // 12:00: its push fails and is retried
        await node.Probe.RetriesAsync(1);
        node.Time.Advance(TimeSpan.FromHours(3.5)); // 15:30, still out of reach
        await node.Probe.RetriesAsync(2);
        proxy.AcceptConnections();
        node.Time.Advance(TimeSpan.FromSeconds(2)); // back: the retry due by then pushes what is due (the retries wait 1 or 2 s here)
        await node.Probe.WaitingForAsync(Key, Start.AddHours(5.5)); // 16:00
        var expected = hours.Select(h => Start.Date.AddHours(h)).Select(t => new DateTimeOffset(t, TimeSpan.Zero)).ToList();
        var pushed = await RunAtsAsync(queueName);
        Assert.True(expected.SequenceEqual(pushed),
            $"After a database outage from 11:30 to 15:30 (fires 12:00 to 15:00 missed), the {accuracy} entry pushed jobs for " +
            $"{string.Join(", ", pushed.Select(t => t.ToString("HH:mm")))}; expected {string.Join(", ", expected.Select(t => t.ToString("HH:mm")))}");
    }

    /// <summary>The run-at (fire time) of every job of the queue, in order.</summary>
    private async Task<List<DateTimeOffset>> RunAtsAsync(string queueName)
    {
        await using var dataSource = fixture.CreateDataSource();
        await using var command = dataSource.CreateCommand($"SELECT run_at FROM {Schema}.jobs WHERE queue_name = $1 ORDER BY run_at");
        command.Parameters.Add(new NpgsqlParameter { Value = queueName });
        var times = new List<DateTimeOffset>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            times.Add(new DateTimeOffset(DateTime.SpecifyKind(reader.GetDateTime(0), DateTimeKind.Utc)));
        }

        return times;
    }
}
