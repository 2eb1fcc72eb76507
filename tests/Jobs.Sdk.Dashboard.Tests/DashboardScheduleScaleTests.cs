using System.Net.Http.Json;
using System.Text.Json;
using Jobs.Sdk.Drivers;
using Jobs.Sdk.Postgres;
using Jobs.Sdk.Postgres.Tests;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Jobs.Sdk.Dashboard.Tests;

/// <summary>
/// A store with 5,000 published schedule entries, over real HTTP (Kestrel on 127.0.0.1) and PostgreSQL: the schedules API
/// answers pages, as the jobs list does, not all 5,000 entries in one response that the page rebuilds at every live change.
/// </summary>
public sealed class DashboardScheduleScaleTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    private const int Entries = 5_000;

    [Fact]
    public async Task The_schedules_api_answers_5000_entries_in_pages_walked_by_cursor()
    {
        await using var dashboard = await KestrelDashboard.StartAsync(postgres, "dsched_", "scale");
        var (app, http, schema) = (dashboard.App, dashboard.Http, dashboard.Schema);
        // One publication of 5,000 entries (one statement), half cron, half interval rules, and one edited schedule's
        // pause left behind (a paused stale entry whose job another, unpaused entry schedules).
        var registrations = Enumerable.Range(0, Entries).Select(i => new ScheduleRegistration
        {
            QueueName = "scale", EntryKey = $"entry-{i:D5}", JobName = i == 0 ? "report" : $"job-{i}",
            Description = i % 2 == 0 ? $"cron {i % 60} * * * *" : "every minute", Payload = "{}"u8.ToArray(),
            NextFireAt = DateTimeOffset.UtcNow.AddHours(1),
        }).Append(new ScheduleRegistration
        {
            QueueName = "scale", EntryKey = "old-report", JobName = "report", Description = "daily at 03:00 UTC", Payload = "{}"u8.ToArray(),
            TimeToLive = TimeSpan.FromSeconds(1),
        }).ToArray();
        var store = app.Services.GetRequiredService<IJobAdminStore>();
        await store.PublishSchedulesAsync(registrations, default);
        await store.SetSchedulePausedAsync("old-report", true, default);
        var driver = app.Services.GetRequiredService<PostgresJobDriver>();
        await using (var age = driver.DataSource.CreateCommand($"UPDATE \"{schema}\".schedules SET seen_at = now() - interval '1 hour' WHERE entry_key = 'old-report'"))
        {
            await age.ExecuteNonQueryAsync();
        }

        var body = await http.GetStringAsync("api/schedules");
        var first = JsonDocument.Parse(body).RootElement;
        var items = first.ValueKind == JsonValueKind.Array ? first : first.GetProperty("items");
        Assert.True(items.GetArrayLength() <= 500,
            $"GET api/schedules answered {items.GetArrayLength()} entries ({body.Length:N0} bytes) in one response; the jobs list answers pages of at most 500.");

        // The pause left behind is named on the first page, wherever its entries sort.
        var leftBehind = first.GetProperty("pausesLeftBehind");
        Assert.Contains(leftBehind.EnumerateArray(), e => e.GetProperty("entryKey").GetString() == "old-report"
            && e.GetProperty("firingInstead").EnumerateArray().Any(k => k.GetString() == "entry-00000"));
        Assert.Equal(Entries + 1, first.GetProperty("total").GetInt32());

        // Every entry once, in the list's order (queue, then key, ordinal), walking the pages by cursor.
        var seen = new List<string>();
        var page = first;
        for (var pages = 1; ; pages++)
        {
            Assert.True(pages <= Entries, "the cursor does not end");
            seen.AddRange(page.GetProperty("items").EnumerateArray().Select(e => e.GetProperty("entryKey").GetString()!));
            if (page.GetProperty("nextCursor").GetString() is not { } cursor)
            {
                break;
            }

            page = await http.GetFromJsonAsync<JsonElement>("api/schedules?limit=500&cursor=" + Uri.EscapeDataString(cursor));
            Assert.True(page.GetProperty("items").GetArrayLength() <= 500);
        }

        Assert.Equal(registrations.Select(r => r.EntryKey).Order(StringComparer.Ordinal), seen);

        // The page in a browser: one page of rows, the count, the note of the pause left behind, and Next → to page 2.
        var tab = await dashboard.OpenAsync("#/schedules");
        await Expect(tab.Locator("tr[data-entry]")).ToHaveCountAsync(50);
        await Expect(tab.Locator("main .page-head")).ToContainTextAsync("5,001 entries");
        await Expect(tab.Locator("[data-paused-entry='old-report'][data-live-entry='entry-00000']")).ToBeVisibleAsync();
        await tab.GetByRole(AriaRole.Button, new() { Name = "Next →" }).ClickAsync();
        await Expect(tab.Locator("#page-number")).ToHaveTextAsync("Page 2");
        await Expect(tab.Locator("tr[data-entry]").First).ToHaveAttributeAsync("data-entry", "entry-00050");
        await Expect(tab.Locator("tr[data-entry]")).ToHaveCountAsync(50);
    }
}
