using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Jobs.Sdk.Postgres.Tests;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Jobs.Sdk.Dashboard.Tests;

/// <summary>
/// A store with 1,000 queues, over real HTTP (Kestrel on 127.0.0.1) and PostgreSQL: each live event every open browser
/// gets every <see cref="JobsDashboardOptions.LiveInterval"/> carries the overview's busiest queues and the figures over
/// all of them, not all 1,000 queues (224 KB an event, ~110 KB/s a tab), and the queues page pages them by cursor.
/// </summary>
public sealed class DashboardQueueScaleTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    private const int Queues = 1_000;

    /// <summary>The most one live event may weigh: the overview's page of queues, the throughput series and the totals.</summary>
    private const int MaxEventBytes = 32 * 1024;

    [Fact]
    public async Task Live_events_and_the_queues_api_stay_small_with_1000_queues_and_the_pages_show_every_queue()
    {
        await using var dashboard = await KestrelDashboard.StartAsync(postgres, "dqueues_", "q-0000", jobs => jobs.AddJob<TestEmail, TestEmailHandler>());
        var (app, http) = (dashboard.App, dashboard.Http);
        // One pending job in each of 1,000 queues, three more in q-0777 (the busiest), and q-0999 paused.
        var queue = app.Services.GetRequiredService<JobQueue>();
        var names = Enumerable.Range(0, Queues).Select(i => $"q-{i:D4}").ToArray();
        foreach (var chunk in names.Chunk(50))
        {
            await Task.WhenAll(chunk.Select(n => queue.PushAsync(new TestEmail("a@example.com", n), new JobOptions { Queue = n })));
        }

        await queue.PushManyAsync(Enumerable.Range(0, 3).Select(i => new TestEmail("b@example.com", "busy")), new JobOptions { Queue = "q-0777" });
        var admin = app.Services.GetRequiredService<JobAdmin>();
        Assert.True(await admin.PauseQueueAsync("q-0999", "outage", default));

        // One live event, as a browser's EventSource reads it.
        using var events = await http.GetAsync("api/events", HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await events.Content.ReadAsStreamAsync());
        using var hang = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        string? data = null;
        for (string? name = null; data is null;)
        {
            var line = await reader.ReadLineAsync(hang.Token) ?? throw new InvalidOperationException("The event stream ended.");
            if (line.StartsWith("event: ", StringComparison.Ordinal))
            {
                name = line["event: ".Length..];
            }
            else if (line.StartsWith("data: ", StringComparison.Ordinal) && name == "snapshot")
            {
                data = line["data: ".Length..];
            }
        }

        var eventBytes = Encoding.UTF8.GetByteCount(data);
        Assert.True(eventBytes <= MaxEventBytes,
            $"One live snapshot event with {Queues:N0} queues is {eventBytes:N0} bytes (at most {MaxEventBytes:N0}), sent to every open browser every LiveInterval.");
        var snapshot = JsonDocument.Parse(data).RootElement;
        Assert.Equal(Queues + 3, snapshot.GetProperty("totals").GetProperty("pending").GetInt64());
        Assert.Equal(Queues, snapshot.GetProperty("queueCount").GetInt32());
        Assert.Equal(1, snapshot.GetProperty("pausedQueues").GetInt32());
        var shown = snapshot.GetProperty("queues").EnumerateArray().Select(q => q.GetProperty("name").GetString()!).ToList();
        Assert.Equal(50, shown.Count);
        Assert.Contains("q-0777", shown);

        // The queues API: pages of at most 500, walked by cursor, every queue once in name order.
        var body = await http.GetStringAsync("api/queues");
        Assert.True(body.Length <= MaxEventBytes, $"GET api/queues answered {body.Length:N0} bytes with {Queues:N0} queues (at most {MaxEventBytes:N0}).");
        var page = JsonDocument.Parse(body).RootElement;
        Assert.Equal(Queues, page.GetProperty("total").GetInt32());
        var seen = new List<string>();
        for (var pages = 1; ; pages++)
        {
            Assert.True(pages <= Queues, "the cursor does not end");
            seen.AddRange(page.GetProperty("items").EnumerateArray().Select(q => q.GetProperty("name").GetString()!));
            if (page.GetProperty("nextCursor").GetString() is not { } cursor)
            {
                break;
            }

            page = await http.GetFromJsonAsync<JsonElement>("api/queues?limit=300&cursor=" + Uri.EscapeDataString(cursor));
            Assert.True(page.GetProperty("items").GetArrayLength() <= 300);
        }

        Assert.Equal(names, seen);

        // The overview: totals and health over every queue, its table the busiest, and a link to all of them.
        var tab = await dashboard.OpenAsync("#/");
        await Expect(tab.Locator(".stat[data-state=pending] .value")).ToHaveTextAsync("1,003");
        await Expect(tab.Locator("main tr[data-queue]")).ToHaveCountAsync(50);
        await Expect(tab.Locator("main tr[data-queue='q-0777']")).ToBeVisibleAsync();
        await Expect(tab.Locator(".health-row").Filter(new() { HasText = "queue paused" })).ToContainTextAsync("1");
        await Expect(tab.Locator("#queues-shown")).ToContainTextAsync("50 of 1,000 queues");

        // The queues page: a page at a time, and Next → walks every queue.
        await tab.Locator("#queues-shown a").ClickAsync();
        await Expect(tab.Locator("main h1")).ToHaveTextAsync("Queues");
        await Expect(tab.Locator("main .page-head")).ToContainTextAsync("1,000 queues");
        var rows = tab.Locator("main tr[data-queue]");
        var walked = new List<string>();
        for (var number = 1; ; number++)
        {
            Assert.True(number <= Queues, "the pager does not end");
            await Expect(rows.First).ToBeVisibleAsync();
            if (number > 1)
            {
                await Expect(tab.Locator("#page-number")).ToHaveTextAsync($"Page {number}");
            }

            foreach (var name in await rows.EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.queue)"))
            {
                walked.Add(name);
            }

            var next = tab.GetByRole(AriaRole.Button, new() { Name = "Next →" });
            if (await next.IsDisabledAsync())
            {
                break;
            }

            var first = await rows.First.GetAttributeAsync("data-queue");
            await next.ClickAsync();
            await Expect(rows.First).Not.ToHaveAttributeAsync("data-queue", first!);
        }

        Assert.Equal(names, walked);
        await Expect(tab.Locator("main tr[data-queue='q-0999'] .badge")).ToHaveTextAsync("Paused");
    }
}
