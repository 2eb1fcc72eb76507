using Jobs.Sdk.Postgres;
using Jobs.Sdk.Samples.Dashboard.Jobs;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Jobs.Sdk.Dashboard.Tests;

/// <summary>
/// The bulk actions' confirm dialog says how many jobs the click would change, counted by the action's own conditions
/// before the operator confirms (a dry run on the server): "Delete 65 jobs matching these filters?", not "Delete every job
/// matching these filters?" over an unknown number. The dashboard sample in headless Chromium, on PostgreSQL.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class DashboardBulkPreviewBrowserTests(BrowserFixture fixture)
{
    /// <summary>The reason the ids test retries with (other tests of the collection tell its audit entry from theirs).</summary>
    public const string RetryReason = "preview test: retry the failed ones";

    [Fact]
    public async Task The_confirm_dialog_of_a_filter_wide_action_shows_how_many_jobs_it_would_change_and_the_action_changes_that_many()
    {
        var tag = "preview-" + Guid.NewGuid().ToString("N")[..8];
        var (pending, failed, cancelled) = await SeedAsync(tag, pending: 40, failed: 15, cancelled: 10);
        var auditBefore = await NewestAuditIdAsync();
        var page = await fixture.NewPageAsync();
        await page.GotoAsync(fixture.BaseUrl + "#/jobs?text=" + tag);
        await Expect(page.Locator("tbody tr[data-job]")).ToHaveCountAsync(50);
        await page.CheckAsync("thead input[type=checkbox]");
        await page.ClickAsync("#select-all-matching");
        await Expect(page.Locator("#selection-count")).ToContainTextAsync("Every job matching these filters");

        // Retry would change the 25 failed and cancelled jobs of the 65 matching: the dialog says both numbers.
        await page.ClickAsync("button[data-action=retry]");
        await Expect(page.Locator("#reason-title")).ToHaveTextAsync("Retry 25 jobs matching these filters?");
        await Expect(page.Locator("#reason-count")).ToHaveTextAsync("(of 65 matching; the others are not in a state this action changes)");
        await Expect(page.Locator("#reason-sample li")).ToHaveTextAsync([.. FirstIds([.. failed, .. cancelled]), "and 20 more"]);
        await Expect(page.Locator("#reason-ok")).ToBeEnabledAsync();
        await BrowserFixture.ScreenshotAsync(page, "bulk-preview-retry");
        await page.ClickAsync("#reason-cancel");
        await Expect(page.Locator("#reason-dialog")).Not.ToBeVisibleAsync();

        // Delete changes every matching job, whatever its state.
        await page.ClickAsync("button[data-action=delete]");
        await Expect(page.Locator("#reason-title")).ToHaveTextAsync("Delete 65 jobs matching these filters?");
        await Expect(page.Locator("#reason-count")).ToHaveTextAsync("");
        await Expect(page.Locator("#reason-sample li")).ToHaveTextAsync([.. FirstIds([.. pending, .. failed, .. cancelled]), "and 60 more"]);
        await page.ClickAsync("#reason-cancel");
        await Expect(page.Locator("#reason-dialog")).Not.ToBeVisibleAsync();

        // Counting and cancelling changed nothing, and wrote no audit entry.
        Assert.Equal((40, 15, 10), await StatesAsync(tag));
        Assert.Equal(auditBefore, await NewestAuditIdAsync());

        // Confirmed, the delete removes exactly the 65 jobs it counted.
        await page.ClickAsync("button[data-action=delete]");
        await Expect(page.Locator("#reason-title")).ToHaveTextAsync("Delete 65 jobs matching these filters?");
        await page.FillAsync("#reason-input", "preview test: delete the batch");
        await page.ClickAsync("#reason-ok");
        await Expect(page.Locator(".toast", new() { HasText = "Delete:" })).ToContainTextAsync("65 jobs changed");
        Assert.Equal((0, 0, 0), await StatesAsync(tag));
        var entry = (await fixture.Admin.GetAuditLogAsync(1)).Single();
        Assert.Equal(("delete", 65), (entry.Action, entry.RowsChanged));
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task The_confirm_dialog_of_an_action_on_selected_jobs_counts_them_says_when_none_would_change_and_when_it_cannot_count()
    {
        var tag = "preview-" + Guid.NewGuid().ToString("N")[..8];
        var (pending, failed, _) = await SeedAsync(tag, pending: 2, failed: 3, cancelled: 0);
        var auditBefore = await NewestAuditIdAsync();
        var page = await fixture.NewPageAsync();

        // Only the 2 pending jobs selected. While the count runs (held here), the dialog says so and Confirm waits for it;
        // then retry would change none of them, and Confirm stays off.
        await page.GotoAsync(fixture.BaseUrl + "#/jobs?state=pending&text=" + tag);
        await Expect(page.Locator("tbody tr[data-job]")).ToHaveCountAsync(2);
        await page.CheckAsync("thead input[type=checkbox]");
        var held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await page.RouteAsync("**/api/jobs/*/preview", async route =>
        {
            await held.Task;
            await route.ContinueAsync();
        });
        await page.ClickAsync("button[data-action=retry]");
        await Expect(page.Locator("#reason-title")).ToHaveTextAsync("Retry 2 jobs?");
        await Expect(page.Locator("#reason-count")).ToHaveTextAsync("Counting the jobs this would change…");
        await Expect(page.Locator("#reason-ok")).ToBeDisabledAsync();
        held.SetResult();
        await Expect(page.Locator("#reason-title")).ToHaveTextAsync("Retry: nothing to change");
        await Expect(page.Locator("#reason-count")).ToHaveTextAsync("None of the 2 selected jobs is in a state Retry changes.");
        await Expect(page.Locator("#reason-sample li")).ToHaveCountAsync(0);
        await Expect(page.Locator("#reason-ok")).ToBeDisabledAsync();
        await page.ClickAsync("#reason-cancel");
        await page.UnrouteAllAsync();

        // The count fails: the dialog says it is unknown, and the operator can still act.
        await page.RouteAsync("**/api/jobs/*/preview", route => route.FulfillAsync(new()
        {
            Status = 503, ContentType = "application/json", Body = "{\"error\":\"the database is restarting\"}",
        }));
        await page.ClickAsync("button[data-action=retry]");
        await Expect(page.Locator("#reason-title")).ToHaveTextAsync("Retry 2 jobs?");
        await Expect(page.Locator("#reason-count")).ToHaveTextAsync(
            "How many of them this would change is unknown: the count failed (the database is restarting).");
        await Expect(page.Locator("#reason-ok")).ToBeEnabledAsync();
        await page.ClickAsync("#reason-cancel");
        await page.UnrouteAllAsync();

        // All 5 selected: retry would change the 3 failed ones.
        await page.GotoAsync(fixture.BaseUrl + "#/jobs?text=" + tag);
        await Expect(page.Locator("tbody tr[data-job]")).ToHaveCountAsync(5);
        await page.CheckAsync("thead input[type=checkbox]");
        await page.ClickAsync("button[data-action=retry]");
        await Expect(page.Locator("#reason-title")).ToHaveTextAsync("Retry 3 of 5 selected jobs?");
        await Expect(page.Locator("#reason-count")).ToHaveTextAsync("(the other 2 are not in a state this action changes)");
        await Expect(page.Locator("#reason-sample li")).ToHaveTextAsync(FirstIds(failed));
        await BrowserFixture.ScreenshotAsync(page, "bulk-preview-ids");
        await page.ClickAsync("#reason-cancel");
        Assert.Equal((2, 3, 0), await StatesAsync(tag));
        Assert.Equal(auditBefore, await NewestAuditIdAsync());

        // Confirmed, the retry changes exactly those 3; the delayed pending jobs stay as they were.
        await page.ClickAsync("button[data-action=retry]");
        await Expect(page.Locator("#reason-title")).ToHaveTextAsync("Retry 3 of 5 selected jobs?");
        await page.FillAsync("#reason-input", RetryReason);
        await page.ClickAsync("#reason-ok");
        await Expect(page.Locator(".toast", new() { HasText = "Retry:" })).ToContainTextAsync("3 of 5 jobs changed");
        var entry = (await fixture.Admin.GetAuditLogAsync(1)).Single();
        Assert.Equal(("retry", 3, RetryReason), (entry.Action, entry.RowsChanged, entry.Reason));
        foreach (var id in failed)
        {
            Assert.NotEqual(JobState.Failed, (await fixture.Admin.GetJobAsync(id))?.State);
        }

        foreach (var id in pending)
        {
            var job = (await fixture.Admin.GetJobAsync(id))!;
            Assert.True(job.State == JobState.Pending && job.RunAt > DateTimeOffset.UtcNow.AddHours(1), $"{id}: {job.State} due {job.RunAt:O}");
        }

        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task The_confirm_dialog_shows_the_sample_ids_the_server_sends_as_text()
    {
        var tag = "preview-" + Guid.NewGuid().ToString("N")[..8];
        await SeedAsync(tag, pending: 2, failed: 0, cancelled: 0);
        var page = await fixture.NewPageAsync();
        await page.GotoAsync(fixture.BaseUrl + "#/jobs?text=" + tag);
        await Expect(page.Locator("tbody tr[data-job]")).ToHaveCountAsync(2);
        await page.CheckAsync("thead input[type=checkbox]");

        // Whatever the preview's ids hold (a proxy's rewrite, a future id format), they show as text, never as markup.
        const string Markup = "<img src=x onerror=\"document.body.dataset.injected='yes'\">";
        await page.RouteAsync("**/api/jobs/*/preview", route => route.FulfillAsync(new()
        {
            Status = 200, ContentType = "application/json",
            Body = System.Text.Json.JsonSerializer.Serialize(new { selected = 2, wouldChange = 9, sample = new[] { Markup, "a&amp;b" } }),
        }));
        await page.ClickAsync("button[data-action=cancel]");
        await Expect(page.Locator("#reason-sample li")).ToHaveTextAsync([Markup, "a&amp;b", "and 7 more"]);
        await Expect(page.Locator("#reason-dialog img")).ToHaveCountAsync(0);
        Assert.Null(await page.EvaluateAsync<string?>("document.body.dataset.injected ?? null"));
        await page.ClickAsync("#reason-cancel");
        await page.Context.CloseAsync();
        await fixture.Admin.DeleteAsync(JobSelection.Matching(new JobQuery { PayloadText = tag }));
    }

    /// <summary>The first ids of a preview's sample: the ids ascending (UUIDs compare as their text), at most 5.</summary>
    private static string[] FirstIds(IEnumerable<JobId> ids)
        => [.. ids.Select(id => id.ToString()).Order(StringComparer.Ordinal).Take(5)];

    /// <summary>Pushes delayed jobs whose payload holds <paramref name="tag"/>, and marks some failed and some cancelled.</summary>
    private async Task<(JobId[] Pending, JobId[] Failed, JobId[] Cancelled)> SeedAsync(string tag, int pending, int failed, int cancelled)
    {
        var queue = fixture.App.Services.GetRequiredService<JobQueue>();
        var ids = (await queue.PushManyAsync(
            Enumerable.Range(0, pending + failed + cancelled).Select(i => new SendWelcomeEmail($"{tag}-{i}@example.com", tag)),
            new JobOptions { DelayUntil = DateTimeOffset.UtcNow.AddHours(2) })).ToArray();
        var result = (ids[..pending], ids[pending..(pending + failed)], ids[(pending + failed)..]);
        var driver = fixture.App.Services.GetRequiredService<PostgresJobDriver>();
        foreach (var (state, set) in new[] { (JobState.Failed, result.Item2), (JobState.Cancelled, result.Item3) })
        {
            await using var update = driver.DataSource.CreateCommand(
                $"UPDATE \"{driver.Schema}\".jobs SET state = $1, attempts = 1, finished_at = now() WHERE id = ANY($2)");
            update.Parameters.Add(new Npgsql.NpgsqlParameter { Value = (short)state });
            update.Parameters.Add(new Npgsql.NpgsqlParameter { Value = set.Select(i => i.Value).ToArray() });
            await update.ExecuteNonQueryAsync();
        }

        Assert.Equal((pending, failed, cancelled), await StatesAsync(tag));
        return result;
    }

    private async Task<(int Pending, int Failed, int Cancelled)> StatesAsync(string tag)
    {
        var jobs = (await fixture.Admin.ListJobsAsync(new JobQuery { PayloadText = tag, Limit = JobQuery.MaxLimit })).Items;
        return (jobs.Count(j => j.State == JobState.Pending), jobs.Count(j => j.State == JobState.Failed), jobs.Count(j => j.State == JobState.Cancelled));
    }

    private async Task<long> NewestAuditIdAsync() => (await fixture.Admin.GetAuditLogAsync(1)).SingleOrDefault()?.Id ?? 0;
}
