using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;

namespace Jobs.Sdk.Dashboard.Tests;

/// <summary>
/// The live updates: however many browsers are connected, the app reads the store once per interval (one shared poll),
/// and not at all while nobody is connected. Counted through a wrapper around the real admin store, on a fake clock.
/// </summary>
public sealed class LiveEventsTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

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

        var clients = new List<EventStream>();
        for (var i = 0; i < 10; i++)
        {
            clients.Add(await EventStream.OpenAsync(app, Caller.LocalAnonymous));
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

        await WaitUntilAsync(() => app.Hub.SubscriberCount == 0);
        time.Advance(TimeSpan.FromSeconds(2));
        // The poll that was due when the last browser left may still run once; after that, nothing.
        await WaitUntilAsync(() => app.Hub.PollCount <= 5 && !app.Hub.IsPolling);
        var settled = app.Store.QueueReads;
        time.Advance(TimeSpan.FromMinutes(5));
        time.Advance(TimeSpan.FromMinutes(5));
        Assert.False(app.Hub.IsPolling);
        Assert.Equal(settled, app.Store.QueueReads);

        // A new browser restarts the poll and first gets the latest snapshot.
        await using var again = await EventStream.OpenAsync(app, Caller.LocalAnonymous);
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
        await using var client = await EventStream.OpenAsync(app, Caller.LocalAnonymous);
        var snapshot = await client.NextAsync("snapshot");
        var queue = snapshot.GetProperty("queues").EnumerateArray().Single(q => q.GetProperty("name").GetString() == "emails");
        Assert.Equal(1, queue.GetProperty("counts").GetProperty("pending").GetInt64());
        Assert.Equal(1, queue.GetProperty("counts").GetProperty("cancelled").GetInt64());
        Assert.Equal(60, snapshot.GetProperty("throughput").GetProperty("minutes").GetArrayLength());
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        using var cts = new CancellationTokenSource(Deadline);
        while (!condition())
        {
            await Task.Yield();
            await Task.Delay(10, cts.Token);
        }
    }

    /// <summary>One browser's <c>api/events</c> stream, parsed into events.</summary>
    private sealed class EventStream : IAsyncDisposable
    {
        private readonly HttpResponseMessage _response;
        private readonly StreamReader _reader;

        private EventStream(HttpResponseMessage response, StreamReader reader)
        {
            _response = response;
            _reader = reader;
        }

        public static async Task<EventStream> OpenAsync(DashboardTestApp app, Caller caller)
        {
            var request = app.Request(HttpMethod.Get, "api/events", caller);
            var response = await app.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
            return new EventStream(response, new StreamReader(await response.Content.ReadAsStreamAsync()));
        }

        public async Task<JsonElement> NextAsync(string eventName)
        {
            using var cts = new CancellationTokenSource(Deadline);
            string? name = null;
            while (true)
            {
                var line = await _reader.ReadLineAsync(cts.Token) ?? throw new InvalidOperationException("The event stream ended.");
                if (line.StartsWith("event: ", StringComparison.Ordinal))
                {
                    name = line["event: ".Length..];
                }
                else if (line.StartsWith("data: ", StringComparison.Ordinal) && name == eventName)
                {
                    return JsonDocument.Parse(line["data: ".Length..]).RootElement.Clone();
                }
            }
        }

        public ValueTask DisposeAsync()
        {
            _reader.Dispose();
            _response.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
