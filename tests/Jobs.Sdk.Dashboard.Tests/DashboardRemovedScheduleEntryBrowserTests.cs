using System.Text.RegularExpressions;
using Jobs.Sdk.Drivers;
using Jobs.Sdk.Postgres;
using Microsoft.Extensions.DependencyInjection;
using static Microsoft.Playwright.Assertions;

namespace Jobs.Sdk.Dashboard.Tests;

/// <summary>
/// An operator acts on a schedule entry as the schedules page showed it, and the entry was removed since (retention deletes
/// an entry no scheduler published for 7 days; an edited schedule publishes a new key): the answer must say so. A trigger
/// said the job was unique and held ("Pushed no job ... a job holding its key is waiting"), a pause "Schedule ... paused",
/// though there was nothing to trigger or pause. The dashboard sample on PostgreSQL in headless Chromium.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class DashboardRemovedScheduleEntryBrowserTests(BrowserFixture fixture)
{
    [Fact]
    public async Task Triggering_or_pausing_a_schedule_entry_removed_since_the_page_loaded_says_it_is_gone()
    {
        var job = "gone-" + Guid.NewGuid().ToString("N")[..8];
        var (triggered, paused) = ($"{job}@daily at 03:00 UTC", $"{job}@daily at 04:00 UTC");
        var driver = fixture.App.Services.GetRequiredService<PostgresJobDriver>();
        var store = fixture.App.Services.GetRequiredService<IJobAdminStore>();
        await store.PublishSchedulesAsync([Entry(driver.QueueName, triggered, job), Entry(driver.QueueName, paused, job)], default);

        var page = await fixture.NewPageAsync();
        await page.GotoAsync(fixture.BaseUrl + "#/schedules");
        await Expect(page.Locator($"tr[data-entry='{triggered}']")).ToBeVisibleAsync();
        await Expect(page.Locator($"tr[data-entry='{paused}']")).ToBeVisibleAsync();

        // The page keeps what it showed, as one not reloaded since: its list reloads are refused from here on. The page reloads
        // the list on every live change (the sample's workers run jobs), and a reload between the removal and the click took
        // the row away, so the click waited for a row that was gone (the clean-clone CI of 2ef7319: "Timeout 30000ms exceeded
        // ... element was detached from the DOM").
        await page.RouteAsync(new Regex("/api/schedules(\\?|$)"), route => route.AbortAsync());
        var wrong = new List<string>();
        foreach (var (key, button, title) in new[] { (triggered, "Trigger now", $"Trigger “{triggered}” now?"), (paused, "Pause", $"Pause “{paused}”?") })
        {
            var row = page.Locator($"tr[data-entry='{key}']");
            await Expect(row).ToBeVisibleAsync();

            // Meanwhile the entry is removed, as the schedules' retention removes one no scheduler publishes any more.
            await using (var delete = driver.DataSource.CreateCommand($"DELETE FROM \"{driver.Schema}\".schedules WHERE entry_key = $1"))
            {
                delete.Parameters.AddWithValue(key);
                Assert.Equal(1, await delete.ExecuteNonQueryAsync());
            }

            await row.Locator("button", new() { HasText = button }).ClickAsync();
            await Expect(page.Locator("#reason-title")).ToHaveTextAsync(title);
            await page.ClickAsync("#reason-ok");
            var toast = page.Locator(".toast", new() { HasText = key }).Last;
            await Expect(toast).ToBeVisibleAsync();
            var text = await toast.TextContentAsync();
            if (!text!.Contains($"Schedule entry '{key}' is not stored", StringComparison.Ordinal))
            {
                wrong.Add($"{button}: '{text}'");
            }
        }

        Assert.True(wrong.Count == 0, "Actions on schedule entries removed since the page loaded answered: " + string.Join("; ", wrong));

        Assert.DoesNotContain(await fixture.Admin.GetSchedulesAsync(), s => s.EntryKey.StartsWith(job, StringComparison.Ordinal));
        await page.Context.CloseAsync();
    }

    private static ScheduleRegistration Entry(string queue, string key, string job) => new()
    {
        QueueName = queue, EntryKey = key, JobName = job, Description = key[(key.IndexOf('@') + 1)..], Payload = "{}"u8.ToArray(),
        NextFireAt = DateTimeOffset.UtcNow.Date.AddDays(1).AddHours(3), TimeToLive = TimeSpan.FromHours(2),
    };
}
