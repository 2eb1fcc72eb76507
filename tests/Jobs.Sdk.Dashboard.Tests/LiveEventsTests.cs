using Microsoft.Extensions.Time.Testing;

namespace Jobs.Sdk.Dashboard.Tests;

/// <summary>
/// The live updates: however many browsers are connected, the app reads the store once per interval (one shared poll),
/// and not at all while nobody is connected. Counted through a wrapper around the real admin store, on a fake clock.
/// </summary>
public sealed class LiveEventsTests
{
    [Fact]
    public async Task Ten_connected_browsers_cause_one_store_poll_per_interval_and_none_when_all_leave()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = await DashboardTestApp.StartAsync(protect: false, time: time);
        await app.Queue.PushAsync(new TestEmail("a@example.com", "hi"));

        // Nobody connected: time passes, nothing is read.
        time.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(0, app.Hub.PollCount);
        Assert.Equal(0, app.Store.QueueReads);

        var clients = new List<LiveEventStream>();
        for (var i = 0; i < 10; i++)
        {
            clients.Add(await LiveEventStream.OpenAsync(app, Caller.LocalAnonymous));
        }

        // Every client gets snapshot 1 (one poll, or the hub's latest snapshot for later subscribers).
        foreach (var client in clients)
        {
            var first = await client.NextAsync("snapshot");
            Assert.Equal(1, first.GetProperty("seq").GetInt64());
            Assert.Equal(1, first.GetProperty("totals").GetProperty("pending").GetInt64());
        }

        Assert.Equal(10, app.Hub.SubscriberCount);
        for (var tick = 2; tick <= 4; tick++)
        {
            time.Advance(TimeSpan.FromSeconds(2));
            foreach (var client in clients)
            {
                Assert.Equal(tick, (await client.NextAsync("snapshot")).GetProperty("seq").GetInt64());
            }

            // One read of the store per interval, not one per browser.
            Assert.Equal(tick, app.Hub.PollCount);
            Assert.Equal(tick, app.Store.QueueReads);
            Assert.Equal(tick, app.Store.WorkerReads);
        }

        foreach (var client in clients)
        {
            await client.DisposeAsync();
        }

        await LiveEventStream.WaitUntilAsync(() => app.Hub.SubscriberCount == 0);
        time.Advance(TimeSpan.FromSeconds(2));
        // The poll that was due when the last browser left may still run once; after that, nothing.
        await LiveEventStream.WaitUntilAsync(() => app.Hub.PollCount <= 5 && !app.Hub.IsPolling);
        var settled = app.Store.QueueReads;
        time.Advance(TimeSpan.FromMinutes(5));
        time.Advance(TimeSpan.FromMinutes(5));
        Assert.False(app.Hub.IsPolling);
        Assert.Equal(settled, app.Store.QueueReads);

        // A new browser restarts the poll and first gets the latest snapshot.
        await using var again = await LiveEventStream.OpenAsync(app, Caller.LocalAnonymous);
        var latest = await again.NextAsync("snapshot");
        Assert.True(latest.GetProperty("seq").GetInt64() >= 4);
    }

    [Fact]
    public async Task Snapshots_carry_counts_per_queue_and_the_throughput_series()
    {
        await using var app = await DashboardTestApp.StartAsync(protect: false);
        await app.Queue.PushAsync(new TestEmail("a@example.com", "hi"));
        var id = await app.Queue.PushAsync(new TestEmail("b@example.com", "hi"));
        await app.Admin.CancelAsync(JobSelection.Ids(id));
        await using var client = await LiveEventStream.OpenAsync(app, Caller.LocalAnonymous);
        var snapshot = await client.NextAsync("snapshot");
        var queue = snapshot.GetProperty("queues").EnumerateArray().Single(q => q.GetProperty("name").GetString() == "emails");
        Assert.Equal(1, queue.GetProperty("counts").GetProperty("pending").GetInt64());
        Assert.Equal(1, queue.GetProperty("counts").GetProperty("cancelled").GetInt64());
        Assert.Equal(60, snapshot.GetProperty("throughput").GetProperty("minutes").GetArrayLength());
    }
}
