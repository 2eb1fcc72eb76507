namespace Jobs.Sdk.Postgres.Tests;

/// <summary>A queue that runs for months: what it keeps must stay bounded by what the user asked to keep.</summary>
[Collection(PostgresCollection.Name)]
public sealed class LongRunTests(PostgresFixture fixture)
{
    [Fact]
    public async Task Finished_unique_jobs_leave_the_table_once_their_hold_is_over_when_retention_drops_them_even_if_their_key_never_comes_back()
    {
        var done = new Recorder<int>();
        // Default retention (completed jobs dropped); keys that are never pushed again (one per order, say).
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<HeldValueJob>((job, _, _) =>
        {
            done.Add(job.Key);
            return Task.CompletedTask;
        }), worker: o => o.RescueInterval = TimeSpan.FromMilliseconds(100));
        var queue = q.Driver.QueueName;
        await q.Queue.PushManyAsync(Enumerable.Range(0, 40).Select(i => new HeldValueJob(i, i)));
        await q.StartAsync();
        await done.WaitForCountAsync(40);
        await TestExtensions.EventuallyAsync(async () => (await q.Queue.GetCountsAsync()).Completed == 40, what: "the 40 jobs completed (kept while their keys hold)");

        // Keys 0-19 finished two hours ago on the database clock: their hour of hold is over. Keys 20-39 still hold.
        await q.DataSource.ExecAsync(
            $"UPDATE jobs_test.jobs SET finished_at = finished_at - interval '2 hours' WHERE queue_name = '{queue}' AND (payload->>'key')::int < 20");

        await TestExtensions.EventuallyAsync(async () => await q.DataSource.ScalarAsync($"SELECT count(*) FROM jobs_test.jobs WHERE queue_name = '{queue}'") == 20,
            seconds: 20, what: "the 20 completed jobs whose hold is over are deleted, as retention asks (they stayed in the table forever: only a push of the same key removed one)");
        Assert.Equal(0, await q.DataSource.ScalarAsync($"SELECT count(*) FROM jobs_test.jobs WHERE queue_name = '{queue}' AND (payload->>'key')::int < 20"));
        Assert.Equal(20, (await q.Queue.GetCountsAsync()).Completed);

        // The keys that still hold keep their promise.
        Assert.False((await q.Queue.TryPushAsync(new HeldValueJob(25, 0))).Inserted);
        Assert.True((await q.Queue.TryPushAsync(new HeldValueJob(5, 0))).Inserted);
    }
}
