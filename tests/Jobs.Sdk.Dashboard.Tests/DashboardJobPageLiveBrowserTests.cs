using System.Text.RegularExpressions;
using Jobs.Sdk.Samples.Dashboard.Jobs;
using Microsoft.Extensions.DependencyInjection;
using static Microsoft.Playwright.Assertions;

namespace Jobs.Sdk.Dashboard.Tests;

/// <summary>
/// A job's page follows the live updates, which on a busy store come with every snapshot (any job anywhere changes the
/// totals). The page was rebuilt each time, though its job had not changed: the stack trace the operator had opened
/// folded itself again every few seconds, and text selected in an error (to copy it) was dropped. The dashboard sample on
/// PostgreSQL in headless Chromium.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class DashboardJobPageLiveBrowserTests(BrowserFixture fixture)
{
    // Counts the page's handled answers of api/jobs/{id}: set in a task after the microtasks that follow its JSON (where
    // the view draws it).
    private const string CountJobAnswers = """
        const original = window.fetch;
        window.fetch = (...args) => original(...args).then(response => {
          if (/^api\/jobs\/[0-9a-f-]+$/.test(String(args[0]))) {
            const json = response.json.bind(response);
            response.json = () => json().then(body => { setTimeout(() => { window.__jobAnswers = (window.__jobAnswers || 0) + 1; }); return body; });
          }
          return response;
        });
        """;

    [Fact]
    public async Task An_opened_stack_trace_stays_open_while_other_jobs_change_the_live_figures()
    {
        var failed = await fixture.Admin.ListJobsAsync(new JobQuery { States = [JobState.Failed], Names = ["import-feed"] });
        var id = failed.Items[0].Id;
        var queue = fixture.App.Services.GetRequiredService<JobQueue>();
        var marker = "busy-" + Guid.NewGuid().ToString("N")[..8];

        var page = await fixture.NewPageAsync();
        await page.AddInitScriptAsync(CountJobAnswers);
        await page.GotoAsync(fixture.BaseUrl + "#/jobs/" + id);
        await Expect(page.Locator("#job-state")).ToHaveTextAsync("Failed");
        // A snapshot has arrived: the next one that differs is the live update this test waits for.
        await Expect(page.Locator("#live")).ToHaveAttributeAsync("title", new Regex("^Updated "));
        await page.Locator("details.stack > summary").First.ClickAsync();
        await Expect(page.Locator("pre.stack-trace").First).ToBeVisibleAsync();
        var answers = await page.EvaluateAsync<int>("() => window.__jobAnswers || 0");

        // Elsewhere in the store a job arrives: the live figures change, and the page reads its job again (unchanged).
        await queue.PushAsync(new SendWelcomeEmail("elsewhere@example.com", marker), new JobOptions { DelayUntil = DateTimeOffset.UtcNow.AddHours(2) });
        await page.WaitForFunctionAsync($"() => (window.__jobAnswers || 0) > {answers}");

        Assert.True(await page.Locator("details.stack").First.EvaluateAsync<bool>("d => d.open"),
            "The stack trace the operator opened on the page of an unchanged failed job was folded again when a live update " +
            "(a job pushed elsewhere) made the page read its job again");
        await Expect(page.Locator("pre.stack-trace").First).ToBeVisibleAsync();
        await page.Context.CloseAsync();
        await fixture.Admin.DeleteAsync(JobSelection.Matching(new JobQuery { PayloadText = marker }));
    }
}
