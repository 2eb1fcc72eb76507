using Jobs.Sdk.Samples.Dashboard.Jobs;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Jobs.Sdk.Dashboard.Tests;

/// <summary>
/// The jobs list's view state lives in the URL: an operator who pages to the 3rd page of a filtered list, opens a job and
/// comes back (browser Back, or the page's "← Jobs"), reloads, or sends the link to a colleague, sees the same page with
/// the same filters. And what a crafted link puts in the URL is shown as text, never run.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class DashboardUrlStateTests(BrowserFixture fixture)
{
    private const int PageSize = 50;

    [Fact]
    public async Task The_page_and_filters_of_the_jobs_list_survive_back_reload_and_a_shared_link()
    {
        var queue = fixture.App.Services.GetRequiredService<JobQueue>();
        var marker = "url-" + Guid.NewGuid().ToString("N")[..8];
        var later = new JobOptions { DelayUntil = DateTimeOffset.UtcNow.AddHours(2) };
        await queue.PushManyAsync(Enumerable.Range(0, (2 * PageSize) + 7).Select(i => new SendWelcomeEmail($"u{i}@example.com", marker)), later);

        var page = await fixture.NewPageAsync();
        await page.GotoAsync(fixture.BaseUrl + $"#/jobs?queue=sample&state=pending&text={marker}");
        var rows = page.Locator("tbody tr[data-job]");
        await Expect(rows).ToHaveCountAsync(PageSize);
        var firstOfPage1 = await rows.First.GetAttributeAsync("data-job");
        await page.ClickAsync("button:has-text('Next →')");
        await Expect(rows.First).Not.ToHaveAttributeAsync("data-job", firstOfPage1!);
        var firstOfPage2 = await rows.First.GetAttributeAsync("data-job");

        // Scrolled down the 2nd page, open a job near its end and come back: the same rows in view.
        var deep = rows.Nth(45);
        var deepId = await deep.GetAttributeAsync("data-job");
        await deep.ScrollIntoViewIfNeededAsync();
        await deep.Locator("a.job-link").ClickAsync();
        await Expect(page.Locator("#job-state")).ToHaveTextAsync("Pending");
        await page.GoBackAsync();
        await Expect(rows.Nth(45)).ToHaveAttributeAsync("data-job", deepId!);
        await Expect(rows.Nth(45)).ToBeInViewportAsync();
        Assert.True(await page.EvaluateAsync<double>("window.scrollY") > 0, "the list came back scrolled to the top");

        await page.ClickAsync("button:has-text('Next →')");
        await Expect(rows).ToHaveCountAsync(7);
        var firstOfPage3 = (await rows.First.GetAttributeAsync("data-job"))!;

        // Open a job of the 3rd page, then browser Back: the 3rd page, same filters.
        await rows.Nth(3).Locator("a.job-link").ClickAsync();
        await Expect(page.Locator("#job-state")).ToHaveTextAsync("Pending");
        await page.GoBackAsync();
        await ExpectThirdPageAsync(page, marker, firstOfPage3);

        // The job page's own "← Jobs" link goes back to the same place too.
        await rows.Nth(3).Locator("a.job-link").ClickAsync();
        await Expect(page.Locator("#job-state")).ToHaveTextAsync("Pending");
        await page.ClickAsync("p.crumbs a");
        await ExpectThirdPageAsync(page, marker, firstOfPage3);

        // Reload.
        await page.ReloadAsync();
        await ExpectThirdPageAsync(page, marker, firstOfPage3);
        await BrowserFixture.ScreenshotAsync(page, "jobs-page-3");

        // The copied link, opened by a colleague (another browser context): same page, and Previous walks back to the first.
        var colleague = await fixture.NewPageAsync();
        await colleague.GotoAsync(page.Url);
        await ExpectThirdPageAsync(colleague, marker, firstOfPage3);
        await colleague.ClickAsync("button:has-text('← Previous')");
        await Expect(colleague.Locator("tbody tr[data-job]").First).ToHaveAttributeAsync("data-job", firstOfPage2!);
        await colleague.ClickAsync("button:has-text('← Previous')");
        await Expect(colleague.Locator("tbody tr[data-job]").First).ToHaveAttributeAsync("data-job", firstOfPage1!);
        await Expect(colleague.Locator("button:has-text('← Previous')")).ToBeDisabledAsync();

        // Back pages back as well (each page is a history entry): from the first page to the second.
        await colleague.GoBackAsync();
        await Expect(colleague.Locator("tbody tr[data-job]").First).ToHaveAttributeAsync("data-job", firstOfPage2!);
        await colleague.Context.CloseAsync();
        await page.Context.CloseAsync();
        await fixture.Admin.DeleteAsync(JobSelection.Matching(new JobQuery { PayloadText = marker }));
    }

    [Fact]
    public async Task Typing_in_a_search_box_adds_no_history_entry_and_Apply_adds_one()
    {
        var page = await fixture.NewPageAsync();
        await page.GotoAsync(fixture.BaseUrl + "#/jobs?state=failed");
        await Expect(page.Locator("tbody tr[data-job]").First).ToBeVisibleAsync();
        var before = await page.EvaluateAsync<int>("history.length");
        await page.Locator("#f-text").PressSequentiallyAsync("ORD-1042");
        Assert.Equal(before, await page.EvaluateAsync<int>("history.length"));
        await page.PressAsync("#f-text", "Enter");
        await Expect(page.Locator("tbody tr[data-job]")).ToHaveCountAsync(1);
        Assert.Equal(before + 1, await page.EvaluateAsync<int>("history.length"));

        await page.GoBackAsync();
        await Expect(page.Locator("#f-text")).ToHaveValueAsync("");
        await Expect(page.Locator("#f-state")).ToHaveValueAsync("failed");
        await Expect(page.Locator("tbody tr[data-job][data-state=failed]")).Not.ToHaveCountAsync(0);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task A_crafted_link_shows_its_query_as_text_and_runs_nothing()
    {
        const string Img = "<img src=x onerror=\"window.__xss=1\">";
        const string Script = "<script>window.__xss=2</script>";
        const string Svg = "<svg onload=window.__xss=3>";
        var page = await fixture.NewPageAsync();
        await page.GotoAsync(fixture.BaseUrl + "#/jobs?queue=" + Uri.EscapeDataString(Img) + "&text=" + Uri.EscapeDataString(Script)
            + "&name=" + Img + "&cursor=" + Uri.EscapeDataString(Svg) + "&prev=" + Uri.EscapeDataString(Img));
        await Expect(page.Locator("#f-text")).ToHaveValueAsync(Script);
        await Expect(page.Locator("#f-queue option:checked")).ToHaveTextAsync(Img);
        await Expect(page.Locator("main .banner.bad")).ToContainTextAsync(Svg);
        await Expect(page.Locator("main img, main script, main svg")).ToHaveCountAsync(0);

        // A job link with markup for an id, and with a query that is not valid percent-encoding.
        await page.GotoAsync(fixture.BaseUrl + "#/jobs/" + Uri.EscapeDataString(Img) + "?queue=" + Uri.EscapeDataString(Svg));
        await Expect(page.Locator("main .banner.bad")).ToContainTextAsync("not a UUID");
        await Expect(page.Locator("main img, main script, main svg")).ToHaveCountAsync(0);
        Assert.Null(await page.EvaluateAsync<int?>("window.__xss ?? null"));
        var malformed = await fixture.NewPageAsync();
        await malformed.GotoAsync(fixture.BaseUrl + "#/jobs/%E0%A4%A?state=failed");
        await Expect(malformed.Locator("main .banner.bad")).ToContainTextAsync("not a UUID");
        await Expect(malformed.Locator("p.crumbs a")).ToHaveAttributeAsync("href", "#/jobs?state=failed");
        await malformed.Context.CloseAsync();
        await page.Context.CloseAsync();
    }

    private static async Task ExpectThirdPageAsync(IPage page, string marker, string firstRow)
    {
        var rows = page.Locator("tbody tr[data-job]");
        await Expect(rows.First).ToHaveAttributeAsync("data-job", firstRow);
        await Expect(rows).ToHaveCountAsync(7);
        await Expect(page.Locator("#f-queue")).ToHaveValueAsync("sample");
        await Expect(page.Locator("#f-state")).ToHaveValueAsync("pending");
        await Expect(page.Locator("#f-text")).ToHaveValueAsync(marker);
        await Expect(page.Locator("#page-number")).ToHaveTextAsync("Page 3");
        await Expect(page.Locator("button:has-text('← Previous')")).ToBeEnabledAsync();
    }
}
