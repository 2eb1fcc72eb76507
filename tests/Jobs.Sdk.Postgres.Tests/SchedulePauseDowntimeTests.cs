using Jobs.Sdk.Drivers;
using Jobs.Sdk.Testing;
using Npgsql;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// An entry paused while every scheduler of it was down, and resumed before one started again, on real PostgreSQL with
/// fake clocks on the database's timeline (the resume is the database's). <see cref="JobAdmin.ResumeScheduleAsync"/>: a
/// resumed entry goes on from its next fire time; the fires that fell while it was paused are not pushed, also not as the
/// catch-up of a scheduler that starts after the resume.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class SchedulePauseDowntimeTests(PostgresFixture fixture)
{
    private const string Schema = "jobs_test";

    [Theory]
    [InlineData(ScheduleAccuracy.Latest)]
    [InlineData(ScheduleAccuracy.All)]
    public async Task Fires_that_fell_while_the_entry_was_paused_and_no_scheduler_ran_are_not_pushed_once_it_is_resumed(ScheduleAccuracy accuracy)
    {
        var queueName = "schedpause_" + Guid.NewGuid().ToString("N")[..8];
        var key = "digest-" + queueName; // a pause is by entry key, in every queue
        await using var dataSource = fixture.CreateDataSource();
        var admin = new PostgresJobAdminStore(dataSource, Schema);
        // The entry's last fire three hours ago (H0): the fires of H0+1h, H0+2h and H0+3h fall in the pause and the downtime.
        var now = await ClockAsync(dataSource);
        var h0 = new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, 0, 0, TimeSpan.Zero).AddHours(-3);
        await using (var before = PostgresSchedulerNode.Create(fixture, Schema, queueName, h0.AddMinutes(-10), s => s.Add(new ValueJob(1), Schedule.Hourly(), accuracy, key)))
        {
            await before.StartAsync();
            await before.SettledAsync();
            before.Time.Advance(TimeSpan.FromMinutes(20)); // H0 + 10 min: the fire of H0
            await before.SettledAsync();
        }

        // H0 + 10 min: the operator pauses the entry, and every process of it is down until after it is resumed.
        await admin.PublishSchedulesAsync([new ScheduleRegistration
        {
            QueueName = queueName, EntryKey = key, JobName = ValueJob.JobName, Description = "hourly at minute 0 UTC", Payload = "{\"value\":1}"u8.ToArray(),
            TimeToLive = TimeSpan.FromMinutes(1),
        }], default);
        Assert.Equal(1, await admin.SetSchedulePausedAsync(key, true, default));
        Assert.Equal(1, await admin.SetSchedulePausedAsync(key, false, default));
        var resumed = await ClockAsync(dataSource);
        Assert.Equal(h0, Assert.Single(await admin.GetSchedulesAsync(default), e => e.EntryKey == key).LastFireAt);

        await using var after = PostgresSchedulerNode.Create(fixture, Schema, queueName, resumed, s => s.Add(new ValueJob(1), Schedule.Hourly(), accuracy, key));
        await after.StartAsync();
        await after.Probe.WaitingForAsync(key, h0.AddHours(4));

        var pushed = await RunAtsAsync(queueName);
        Assert.True(pushed.SequenceEqual([h0]),
            $"An hourly {accuracy} entry paused after its fire of {h0:HH:mm} while no scheduler ran, resumed at {resumed:HH:mm:ss} before its " +
            $"scheduler started again, pushed jobs for {string.Join(", ", pushed.Select(t => t.ToString("HH:mm")))}; expected {h0:HH:mm} only " +
            "(the later fires fell while it was paused)");
    }

    private static async Task<DateTimeOffset> ClockAsync(NpgsqlDataSource dataSource)
    {
        await using var command = dataSource.CreateCommand("SELECT clock_timestamp()");
        return new DateTimeOffset(DateTime.SpecifyKind((DateTime)(await command.ExecuteScalarAsync())!, DateTimeKind.Utc));
    }

    private async Task<List<DateTimeOffset>> RunAtsAsync(string queueName)
    {
        await using var dataSource = fixture.CreateDataSource();
        await using var command = dataSource.CreateCommand($"SELECT run_at FROM {Schema}.jobs WHERE queue_name = $1 ORDER BY run_at");
        command.Parameters.Add(new NpgsqlParameter { Value = queueName });
        var times = new List<DateTimeOffset>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            times.Add(reader.GetFieldValue<DateTimeOffset>(0));
        }

        return times;
    }
}
