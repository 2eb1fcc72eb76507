using System.Text.RegularExpressions;
using Jobs.Sdk.Drivers;
using Jobs.Sdk.Postgres;
using Jobs.Sdk.Samples.Dashboard.Jobs;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Jobs.Sdk.Dashboard.Tests;

/// <summary>
/// The dashboard sample in a real headless Chromium, on a throwaway PostgreSQL: what an operator does at 3 a.m.
/// Each test saves a screenshot under the test results folder (dashboard-screenshots/).
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed partial class DashboardBrowserTests(BrowserFixture fixture)
{
    [Fact]
    public async Task Overview_shows_counts_per_state_and_queue_the_throughput_chart_and_the_local_only_notice()
    {
        var page = await fixture.NewPageAsync();
        await page.GotoAsync(fixture.BaseUrl);
        await Expect(page.Locator("#live")).ToContainTextAsync("Live");
        await Expect(page.Locator("a.stat[data-state=failed] .value")).Not.ToHaveTextAsync("0");
        await Expect(page.Locator("a.stat[data-state=completed] .value")).Not.ToHaveTextAsync("0");
        await Expect(page.Locator("tr[data-queue=sample]")).ToBeVisibleAsync();
        await Expect(page.Locator("svg.chart rect.bar-ok").First).ToBeVisibleAsync();
        await Expect(page.Locator("svg.chart rect.bar-bad").First).ToBeVisibleAsync();
        // Safe by default, and it says so.
        await Expect(page.Locator("#local-only-banner")).ToContainTextAsync("only requests from this machine");
        await Expect(page.Locator("#read-only-banner")).ToHaveCountAsync(0);
        // Times in the browser's zone (Europe/Paris here), UTC on hover.
        await Expect(page.Locator("main time").First).ToHaveAttributeAsync("title", UtcTitle());
        await BrowserFixture.ScreenshotAsync(page, "overview");

        // A phone in dark mode: same page, stacked layout.
        var phone = await fixture.NewPageAsync(390, 844, ColorScheme.Dark);
        await phone.GotoAsync(fixture.BaseUrl);
        await Expect(phone.Locator("a.stat[data-state=failed] .value")).Not.ToHaveTextAsync("0");
        var background = await phone.EvaluateAsync<string>("getComputedStyle(document.body).backgroundColor");
        Assert.Equal("rgb(15, 18, 22)", background);
        await BrowserFixture.ScreenshotAsync(phone, "overview-phone-dark");
        await phone.Context.CloseAsync();
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Jobs_list_filters_by_state_arguments_and_error_text()
    {
        var page = await fixture.NewPageAsync();
        await page.GotoAsync(fixture.BaseUrl + "#/jobs");
        await Expect(page.Locator("tbody tr[data-job]").First).ToBeVisibleAsync();

        await page.SelectOptionAsync("#f-state", "failed");
        await page.ClickAsync("form[role=search] button[type=submit]");
        await Expect(page).ToHaveURLAsync(new Regex("state=failed"));
        var rows = page.Locator("tbody tr[data-job]");
        await Expect(rows.Locator("xpath=self::*[@data-state='failed']").First).ToBeVisibleAsync();
        await Expect(page.Locator("tbody tr[data-job]:not([data-state=failed])")).ToHaveCountAsync(0);
        await Expect(rows.Locator("a.job-link", new() { HasText = "import-feed" })).ToHaveCountAsync(1);

        // Text in the arguments (payload), keyboard only: type and press Enter.
        await page.SelectOptionAsync("#f-state", "");
        await page.FillAsync("#f-text", "ORD-1042");
        await page.PressAsync("#f-text", "Enter");
        await Expect(rows).ToHaveCountAsync(1);
        await Expect(rows.First.Locator("a.job-link")).ToHaveTextAsync("charge-card");

        // Text in the error.
        await page.FillAsync("#f-text", "");
        await page.FillAsync("#f-error", "404 Not Found");
        await page.PressAsync("#f-error", "Enter");
        await Expect(rows).ToHaveCountAsync(1);
        await Expect(rows.First.Locator("a.job-link")).ToHaveTextAsync("import-feed");
        await Expect(rows.First.Locator(".error-cell")).ToContainTextAsync("404 Not Found");
        await BrowserFixture.ScreenshotAsync(page, "jobs-filtered");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task A_failed_job_shows_its_error_and_payload_and_completes_live_after_retry()
    {
        var page = await fixture.NewPageAsync();
        await page.GotoAsync(fixture.BaseUrl + "#/jobs?state=failed&name=charge-card");
        await page.ClickAsync("tbody tr[data-job] a.job-link");
        await Expect(page.Locator("#job-state")).ToHaveTextAsync("Failed");
        await Expect(page.Locator("pre.code.error").First).ToContainTextAsync("TimeoutException");
        // The stack trace is collapsed under the error; opening it shows the frames.
        await Expect(page.Locator("pre.stack-trace").First).Not.ToBeVisibleAsync();
        await page.Locator("details.stack > summary").First.ClickAsync();
        await Expect(page.Locator("pre.stack-trace").First).ToContainTextAsync(" at ");
        await Expect(page.Locator("pre.code").First).ToContainTextAsync("\"orderId\": \"ORD-1042\"");
        await Expect(page.Locator("ol.timeline li")).Not.ToHaveCountAsync(0);
        await BrowserFixture.ScreenshotAsync(page, "job-failed");

        await page.ClickAsync("button[data-action=retry]");
        await Expect(page.Locator("#reason-dialog")).ToBeVisibleAsync();
        await page.FillAsync("#reason-input", "provider is back");
        await page.ClickAsync("#reason-ok");
        // No reload: the live events tell the page something changed, and it shows the job completed.
        await Expect(page.Locator("#job-state")).ToHaveTextAsync("Completed", new() { Timeout = 60_000 });
        await BrowserFixture.ScreenshotAsync(page, "job-retried-completed");

        var audit = await fixture.Admin.GetAuditLogAsync();
        // (The preview test's retry, in this collection too, is not this one.)
        var entry = Assert.Single(audit, e => e.Action.StartsWith("retry", StringComparison.Ordinal) && e.Reason != DashboardBulkPreviewBrowserTests.RetryReason);
        Assert.Equal("provider is back", entry.Reason);
        Assert.Equal("anonymous@127.0.0.1", entry.Actor);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task An_operator_pauses_and_resumes_a_queue_with_a_reason()
    {
        var page = await fixture.NewPageAsync();
        await page.GotoAsync(fixture.BaseUrl + "#/queues");
        var row = page.Locator("tr[data-queue=sample]");
        await row.GetByRole(AriaRole.Button, new() { Name = "Pause" }).ClickAsync();
        await page.FillAsync("#reason-input", "database maintenance");
        await page.ClickAsync("#reason-ok");
        await Expect(row).ToContainTextAsync("Paused");
        await Expect(row).ToContainTextAsync("database maintenance");
        Assert.True((await fixture.Admin.GetQueuesAsync()).Single(q => q.Name == "sample").IsPaused);
        await BrowserFixture.ScreenshotAsync(page, "queue-paused");

        await row.GetByRole(AriaRole.Button, new() { Name = "Resume" }).ClickAsync();
        await page.ClickAsync("#reason-ok");
        await Expect(row).ToContainTextAsync("Running");
        Assert.False((await fixture.Admin.GetQueuesAsync()).Single(q => q.Name == "sample").IsPaused);
        await BrowserFixture.ScreenshotAsync(page, "queue-resumed");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Bulk_run_now_acts_on_every_job_matching_the_filters_beyond_the_first_page()
    {
        var queue = fixture.App.Services.GetRequiredService<JobQueue>();
        var later = new JobOptions { DelayUntil = DateTimeOffset.UtcNow.AddHours(2) };
        var ids = await queue.PushManyAsync(
            Enumerable.Range(0, 60).Select(i => new SendWelcomeEmail($"bulk{i}@example.com", "bulk-campaign")), later);

        var page = await fixture.NewPageAsync();
        await page.GotoAsync(fixture.BaseUrl + "#/jobs?state=pending&text=bulk-campaign");
        await Expect(page.Locator("tbody tr[data-job]")).ToHaveCountAsync(50);
        await page.CheckAsync("thead input[type=checkbox]");
        await page.ClickAsync("#select-all-matching");
        await Expect(page.Locator("#selection-count")).ToContainTextAsync("Every job matching these filters");
        await page.ClickAsync("button[data-action=run-now]");
        await Expect(page.Locator("#reason-text")).ToContainTextAsync("Delayed jobs become due now");
        await page.FillAsync("#reason-input", "campaign goes out now");
        await page.ClickAsync("#reason-ok");
        await Expect(page.Locator(".toast").First).ToContainTextAsync("60 jobs changed");
        await BrowserFixture.ScreenshotAsync(page, "bulk-run-now");

        // All 60 were due at once (and the worker then ran them), not only the 50 on screen.
        foreach (var id in ids)
        {
            var job = await fixture.Admin.GetJobAsync(id);
            Assert.True(job is null || job.RunAt < later.DelayUntil, $"{id} still delayed");
        }

        var audit = await fixture.Admin.GetAuditLogAsync();
        Assert.Contains(audit, e => e.Action.StartsWith("run-now", StringComparison.Ordinal) && e.RowsChanged == 60 && e.Reason == "campaign goes out now");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Schedules_workers_and_audit_pages_render()
    {
        var page = await fixture.NewPageAsync();
        await page.GotoAsync(fixture.BaseUrl + "#/schedules");
        await Expect(page.Locator("tr[data-entry]").First).ToContainTextAsync("nightly-report");
        await BrowserFixture.ScreenshotAsync(page, "schedules");
        await page.GotoAsync(fixture.BaseUrl + "#/workers");
        await Expect(page.Locator("main tbody tr").First).ToContainTextAsync("sample");
        await BrowserFixture.ScreenshotAsync(page, "workers");
        await page.GotoAsync(fixture.BaseUrl + "#/audit");
        await Expect(page.Locator("main h1")).ToHaveTextAsync("Audit log");
        await BrowserFixture.ScreenshotAsync(page, "audit");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task A_schedule_entry_no_running_scheduler_publishes_shows_a_stale_badge()
    {
        // A deploy removed an entry: its last publication is an hour old (its time to live 30 s).
        var driver = fixture.App.Services.GetRequiredService<PostgresJobDriver>();
        await fixture.App.Services.GetRequiredService<IJobAdminStore>().PublishSchedulesAsync([new ScheduleRegistration
        {
            QueueName = driver.QueueName, EntryKey = "removed-report", JobName = "report", Description = "daily at 04:00 UTC",
            Payload = "{}"u8.ToArray(), NextFireAt = DateTimeOffset.UtcNow.AddHours(5), TimeToLive = TimeSpan.FromSeconds(30),
        }], default);
        await using (var age = driver.DataSource.CreateCommand(
            $"UPDATE \"{driver.Schema}\".schedules SET seen_at = now() - interval '1 hour' WHERE entry_key = 'removed-report'"))
        {
            await age.ExecuteNonQueryAsync();
        }

        var page = await fixture.NewPageAsync();
        await page.GotoAsync(fixture.BaseUrl + "#/schedules");
        await Expect(page.Locator("tr[data-entry='removed-report']")).ToContainTextAsync("Stale");
        var live = page.Locator("tr[data-entry]", new() { HasText = "nightly-report" }).First;
        await Expect(live).ToBeVisibleAsync();
        await Expect(live).Not.ToContainTextAsync("Stale");
        await page.Context.CloseAsync();
    }

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC$")]
    private static partial Regex UtcTitle();
}
