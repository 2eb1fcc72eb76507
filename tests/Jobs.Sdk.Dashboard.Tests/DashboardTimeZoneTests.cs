using System.Text.RegularExpressions;
using static Microsoft.Playwright.Assertions;

namespace Jobs.Sdk.Dashboard.Tests;

/// <summary>
/// Times on the page say which zone they are in: an operator in Paris reading "14:05" with a colleague in New York (or a
/// UTC log) must not have to guess. The browser runs in Europe/Paris here; December is CET (UTC+1).
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed partial class DashboardTimeZoneTests(BrowserFixture fixture)
{
    [Fact]
    public async Task Times_in_the_jobs_list_and_on_a_job_page_name_their_time_zone()
    {
        var page = await fixture.NewPageAsync();
        await page.GotoAsync(fixture.BaseUrl + "#/jobs?state=failed");
        var queued = page.Locator("tbody tr[data-job] time").First;
        await Expect(queued).ToHaveTextAsync(ZoneSuffix());

        await page.Locator("a.job-link").First.ClickAsync();
        await Expect(page.Locator("ol.timeline time").First).ToHaveTextAsync(ZoneSuffix());
        await page.Context.CloseAsync();
    }

    // Europe/Paris: CET in winter, CEST in summer (or GMT+1/GMT+2 where the locale has no abbreviation).
    [GeneratedRegex(@"\b(CET|CEST|GMT\+1|GMT\+2|UTC\+1|UTC\+2)$")]
    private static partial Regex ZoneSuffix();
}
