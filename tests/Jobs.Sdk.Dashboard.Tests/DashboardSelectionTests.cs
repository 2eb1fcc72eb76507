using Jobs.Sdk.Samples.Dashboard.Jobs;
using Microsoft.Extensions.DependencyInjection;
using static Microsoft.Playwright.Assertions;

namespace Jobs.Sdk.Dashboard.Tests;

/// <summary>
/// On a busy queue the live view tells the jobs list something changed every few seconds: an operator who selected jobs on
/// the first page must keep them selected (and in view) while new jobs arrive, instead of the page reloading under them.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class DashboardSelectionTests(BrowserFixture fixture)
{
    [Fact]
    public async Task A_selection_on_the_first_page_survives_jobs_arriving()
    {
        var queue = fixture.App.Services.GetRequiredService<JobQueue>();
        var marker = "sel-" + Guid.NewGuid().ToString("N")[..8];
        var later = new JobOptions { DelayUntil = DateTimeOffset.UtcNow.AddHours(2) };
        var first = await queue.PushManyAsync(Enumerable.Range(0, 3).Select(i => new SendWelcomeEmail($"s{i}@example.com", marker)), later);

        var page = await fixture.NewPageAsync();
        await page.GotoAsync(fixture.BaseUrl + "#/jobs?state=pending&text=" + marker);
        await Expect(page.Locator("tbody tr[data-job]")).ToHaveCountAsync(3);
        var picked = first[^1].ToString();
        await page.CheckAsync($"tr[data-job='{picked}'] input[type=checkbox]");
        await Expect(page.Locator("#selection-count")).ToHaveTextAsync("1 selected");

        // A burst of new matching jobs (more than a page) arrives; wait until the live view has seen it (two snapshots later).
        await queue.PushManyAsync(Enumerable.Range(0, 60).Select(i => new SendWelcomeEmail($"n{i}@example.com", marker)), later);
        for (var i = 0; i < 2; i++)
        {
            var title = await page.Locator("#live").GetAttributeAsync("title");
            await Expect(page.Locator("#live")).Not.ToHaveAttributeAsync("title", title ?? "");
        }

        await Expect(page.Locator("#selection-count")).ToHaveTextAsync("1 selected");
        await Expect(page.Locator($"tr[data-job='{picked}'] input[type=checkbox]")).ToBeCheckedAsync();
        await page.Context.CloseAsync();
        await fixture.Admin.DeleteAsync(JobSelection.Matching(new JobQuery { PayloadText = marker }));
    }
}
