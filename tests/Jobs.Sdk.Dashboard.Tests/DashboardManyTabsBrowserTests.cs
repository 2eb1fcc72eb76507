using Jobs.Sdk.Samples.Dashboard.Jobs;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Jobs.Sdk.Dashboard.Tests;

/// <summary>
/// An operator opens the dashboard in several tabs of one browser. Over HTTP/1.1 a browser keeps at most 6 connections to
/// a server, and each tab's live stream held one for as long as it was open: from the 7th tab on, the page itself never
/// loaded (every connection busy with a stream). The tabs share one stream; closing the tab that holds it hands it on.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class DashboardManyTabsBrowserTests(BrowserFixture fixture)
{
    private const int Tabs = 8;

    [Fact]
    public async Task Eight_tabs_of_one_browser_all_load_and_follow_the_live_updates_also_after_the_first_tab_closes()
    {
        var queue = fixture.App.Services.GetRequiredService<JobQueue>();
        var marker = "tabs-" + Guid.NewGuid().ToString("N")[..8];
        var later = new JobOptions { DelayUntil = DateTimeOffset.UtcNow.AddHours(2) };
        await queue.PushAsync(new SendWelcomeEmail("first@example.com", marker), later);

        var context = await fixture.Browser.NewContextAsync(new BrowserNewContextOptions { Locale = "en-GB" });
        context.SetDefaultTimeout(30_000);
        var tabs = new List<IPage>();
        for (var i = 1; i <= Tabs; i++)
        {
            var tab = await context.NewPageAsync();
            tabs.Add(tab);
            try
            {
                await tab.GotoAsync(fixture.BaseUrl + "#/jobs?text=" + marker);
                await Expect(tab.Locator("tbody tr[data-job]")).ToHaveCountAsync(1);
            }
            catch (Exception ex) when (ex is TimeoutException or PlaywrightException)
            {
                Assert.Fail($"Tab {i} of {Tabs} in one browser (tabs 1 to {i - 1} open on the dashboard) did not show the jobs list: " +
                    ex.Message.Split('\n')[0]);
            }
        }

        foreach (var tab in tabs)
        {
            await Expect(tab.Locator("#live")).ToContainTextAsync("Live");
        }

        // The first tab goes away; the others still follow the store: a job pushed now appears in every one of them.
        await tabs[0].CloseAsync();
        await queue.PushAsync(new SendWelcomeEmail("second@example.com", marker), later);
        foreach (var tab in tabs.Skip(1))
        {
            await Expect(tab.Locator("tbody tr[data-job]")).ToHaveCountAsync(2);
            await Expect(tab.Locator("#live")).ToContainTextAsync("Live");
        }

        await context.CloseAsync();
        await fixture.Admin.DeleteAsync(JobSelection.Matching(new JobQuery { PayloadText = marker }));
    }
}
