using System.Text.RegularExpressions;
using Jobs.Sdk.Drivers;
using Jobs.Sdk.Postgres;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using static Microsoft.Playwright.Assertions;

namespace Jobs.Sdk.Dashboard.Tests;

/// <summary>
/// A pause belongs to an entry key, and an entry's default key is <c>"{job name}@{schedule}"</c>: a deploy that edits the
/// schedule of a paused entry publishes a new key that is not paused, so the job fires again while the operator's pause
/// sits on the old, now stale key. <c>jobs schedules</c> and <c>jobs doctor</c> say so; the dashboard's schedules page,
/// where an operator paused the entry, must too: both keys, and a button that pauses the new entry (off where the operator
/// may not act). The dashboard sample on PostgreSQL in headless Chromium (its queue; a job name of the test's own).
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class DashboardSchedulePauseLeftBehindTests(BrowserFixture fixture)
{
    [Fact]
    public async Task A_paused_entry_whose_schedule_was_edited_is_shown_with_the_unpaused_entry_that_replaced_it_and_the_new_one_can_be_paused()
    {
        var job = "weekly-digest-" + Guid.NewGuid().ToString("N")[..8];
        var (oldKey, newKey) = ($"{job}@daily at 03:00 UTC", $"{job}@daily at 04:00 UTC");
        var driver = fixture.App.Services.GetRequiredService<PostgresJobDriver>();
        var store = fixture.App.Services.GetRequiredService<IJobAdminStore>();
        await store.PublishSchedulesAsync([Entry(driver.QueueName, oldKey, job, "daily at 03:00 UTC", TimeSpan.FromSeconds(30))], default);
        Assert.Equal(1, await fixture.Admin.PauseScheduleAsync(oldKey));

        // The deploy: the old version's processes are gone (their publication expired), the new one publishes the edited
        // entry (a time to live that outlasts the test: it must stay live while the page looks).
        await using (var age = driver.DataSource.CreateCommand(
            $"UPDATE \"{driver.Schema}\".schedules SET seen_at = now() - interval '1 hour' WHERE entry_key = '{oldKey}'"))
        {
            Assert.Equal(1, await age.ExecuteNonQueryAsync());
        }

        await store.PublishSchedulesAsync([Entry(driver.QueueName, newKey, job, "daily at 04:00 UTC", TimeSpan.FromHours(2))], default);

        // A read-only dashboard on the same store names both keys, and its button is off with the reason.
        await using (var readOnly = await StartReadOnlyDashboardAsync(fixture.PostgresConnectionString, driver.Schema, driver.QueueName))
        {
            var viewer = await fixture.NewPageAsync();
            await viewer.GotoAsync(readOnly.BaseUrl + "#/schedules");
            var viewerNote = viewer.Locator($"[data-paused-entry='{oldKey}']");
            await Expect(viewerNote).ToContainTextAsync($"“{oldKey}” is paused but stale, and job “{job}” is scheduled by “{newKey}”, which is not paused");
            var denied = viewerNote.Locator("button", new() { HasText = "Pause “" + newKey + "”" });
            await Expect(denied).ToBeDisabledAsync();
            await Expect(denied).ToHaveAttributeAsync("title", new Regex("The dashboard is read-only"));
            await viewer.Context.CloseAsync();
        }

        var page = await fixture.NewPageAsync();
        await page.GotoAsync(fixture.BaseUrl + "#/schedules");
        var note = page.Locator($"[data-paused-entry='{oldKey}']");
        await Expect(note).ToContainTextAsync($"“{oldKey}” is paused but stale, and job “{job}” is scheduled by “{newKey}”, which is not paused");
        await Expect(page.Locator($"tr[data-entry='{oldKey}']")).ToContainTextAsync("Pause left behind");
        await Expect(page.Locator($"tr[data-entry='{newKey}']")).ToContainTextAsync($"fires though “{oldKey}” is paused");
        await BrowserFixture.ScreenshotAsync(page, "schedules-pause-left-behind");

        // Pausing the new entry from the note: the same confirm dialog and audit as the row's Pause.
        await note.Locator("button", new() { HasText = "Pause “" + newKey + "”" }).ClickAsync();
        await Expect(page.Locator("#reason-title")).ToHaveTextAsync($"Pause “{newKey}”?");
        await page.FillAsync("#reason-input", "pause moved to the edited schedule");
        await page.ClickAsync("#reason-ok");
        await Expect(page.Locator(".toast", new() { HasText = $"Schedule {newKey} paused" })).ToBeVisibleAsync();
        await Expect(note).ToHaveCountAsync(0);
        await Expect(page.Locator($"tr[data-entry='{newKey}']")).ToContainTextAsync("Paused");
        Assert.True((await fixture.Admin.GetSchedulesAsync()).Single(s => s.EntryKey == newKey).IsPaused);
        Assert.Contains(await fixture.Admin.GetAuditLogAsync(50), e => e.Target.Contains(newKey, StringComparison.Ordinal)
            && e.Reason == "pause moved to the edited schedule");
        await page.Context.CloseAsync();
    }

    private static ScheduleRegistration Entry(string queue, string key, string job, string description, TimeSpan timeToLive) => new()
    {
        QueueName = queue, EntryKey = key, JobName = job, Description = description, Payload = "{}"u8.ToArray(),
        NextFireAt = DateTimeOffset.UtcNow.Date.AddDays(1).AddHours(3), TimeToLive = timeToLive,
    };

    /// <summary>A second app (real Kestrel) with only the dashboard, on the sample's store, without an operator policy: read-only for everyone.</summary>
    private static async Task<ReadOnlyDashboard> StartReadOnlyDashboardAsync(string connectionString, string schema, string queue)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.AddJobs(jobs => jobs.UsePostgres(connectionString, o =>
        {
            o.Schema = schema;
            o.QueueName = queue;
        }).AddJob<TestEmail, TestEmailHandler>());
        builder.Services.AddJobsDashboard(o => o.OperatorPolicy = null);
        var app = builder.Build();
        app.MapJobsDashboard("/jobs");
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new ReadOnlyDashboard(app, address.TrimEnd('/') + "/jobs/");
    }

    private sealed record ReadOnlyDashboard(WebApplication App, string BaseUrl) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await App.StopAsync();
            await App.DisposeAsync();
        }
    }
}
