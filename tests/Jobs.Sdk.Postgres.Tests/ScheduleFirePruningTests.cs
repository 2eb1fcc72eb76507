namespace Jobs.Sdk.Postgres.Tests;

/// <summary>Issue 13, finding 8: schedule_fires does not grow forever.</summary>
[Collection(PostgresCollection.Name)]
public sealed class ScheduleFirePruningTests(PostgresFixture fixture)
{
    [Fact]
    public async Task A_new_fire_prunes_the_entrys_fires_older_than_the_window_and_keeps_the_latest()
    {
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>((_, _, _) => Task.CompletedTask));
        Drivers.IJobScheduleStore store = q.Driver;
        var now = DateTimeOffset.UtcNow;
        foreach (var fire in new[] { now.AddDays(-3), now.AddDays(-2), now.AddHours(-2), now })
        {
            Assert.True(await store.TryPushScheduledAsync("entry", fire, Record(), default));
        }

        Assert.True(await store.TryPushScheduledAsync("other", now.AddDays(-5), Record(), default));
        var kept = await q.DataSource.ScalarAsync(
            $"SELECT count(*) FROM jobs_test.schedule_fires WHERE queue_name = '{q.Driver.QueueName}' AND entry_key = 'entry'");
        Assert.Equal(2, kept); // the latest and the one within the window
        Assert.Equal(now.AddDays(0).ToUnixTimeMilliseconds() / 1000, (await store.GetLastFireTimeAsync("entry", default))!.Value.ToUnixTimeMilliseconds() / 1000);
        Assert.Equal(1, await q.DataSource.ScalarAsync(
            $"SELECT count(*) FROM jobs_test.schedule_fires WHERE queue_name = '{q.Driver.QueueName}' AND entry_key = 'other'"));
    }

    private static Drivers.JobPushRecord Record() => new() { Id = JobId.New(), Name = ValueJob.JobName, Payload = "{\"value\":1}"u8.ToArray() };
}
