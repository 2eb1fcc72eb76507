using System.Text.RegularExpressions;
using Jobs.Sdk.Samples.Dashboard.Jobs;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Jobs.Sdk.Dashboard.Tests;

/// <summary>
/// On a busy queue the jobs list's first page reloads with the live updates. An operator who pages on while such a reload
/// is on its way must see the page asked for: the reload's answer, when it comes last, must not draw the first page's rows
/// under "Page 2" (whose Next → then walks the same rows again).
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class DashboardPagingRaceBrowserTests(BrowserFixture fixture)
{
    // Marks when the page has handled an answer of api/jobs for the first page (no cursor): set in a task after the
    // microtasks that follow its JSON (where the view draws it).
    private const string MarkFirstPageHandled = """
        const original = window.fetch;
        window.fetch = (...args) => original(...args).then(response => {
          const url = String(args[0]);
          if (url.startsWith('api/jobs?') && !url.includes('cursor=')) {
            const json = response.json.bind(response);
            response.json = () => json().then(body => { setTimeout(() => { window.__firstPageHandled = (window.__firstPageHandled || 0) + 1; }); return body; });
          }
          return response;
        });
        """;

    [Fact]
    public async Task A_live_reload_of_the_first_page_answered_after_the_operator_paged_on_does_not_replace_the_page_shown()
    {
        var queue = fixture.App.Services.GetRequiredService<JobQueue>();
        var marker = "race-" + Guid.NewGuid().ToString("N")[..8];
        var later = new JobOptions { DelayUntil = DateTimeOffset.UtcNow.AddHours(2) };
        var pushed = (await queue.PushManyAsync(Enumerable.Range(0, 55).Select(i => new SendWelcomeEmail($"r{i}@example.com", marker)), later)).ToList();

        var page = await fixture.NewPageAsync();
        await page.AddInitScriptAsync(MarkFirstPageHandled);
        await page.GotoAsync(fixture.BaseUrl + "#/jobs?text=" + marker);
        await Expect(page.Locator("tbody tr[data-job]")).ToHaveCountAsync(50);
        await Expect(page.Locator("#live")).ToContainTextAsync("Live");

        // The next reload of the first page (the live update after one more job arrives) is held on its way back.
        var holding = true;
        var held = new TaskCompletionSource<IRoute>(TaskCreationOptions.RunContinuationsAsynchronously);
        await page.RouteAsync(new Regex("/api/jobs\\?"), route =>
        {
            if (Volatile.Read(ref holding) && !route.Request.Url.Contains("cursor=", StringComparison.Ordinal))
            {
                Volatile.Write(ref holding, false);
                held.TrySetResult(route);
                return Task.CompletedTask;
            }

            return route.ContinueAsync();
        });
        pushed.Add(await queue.PushAsync(new SendWelcomeEmail("late@example.com", marker), later));
        var reload = await held.Task.WaitAsync(TimeSpan.FromSeconds(60));
        var handledBefore = await page.EvaluateAsync<int>("() => window.__firstPageHandled || 0");

        // Meanwhile the operator pages on from the first page shown (the newest 50 of 55): page 2 holds the 5 oldest jobs.
        await page.ClickAsync("text=Next →");
        await Expect(page.Locator("#page-number")).ToHaveTextAsync("Page 2");
        await Expect(page.Locator("tbody tr[data-job]")).ToHaveCountAsync(5);

        await reload.ContinueAsync();
        await page.WaitForFunctionAsync($"() => (window.__firstPageHandled || 0) > {handledBefore}");
        var shown = await page.Locator("tbody tr[data-job]").EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.job)");
        var oldest = pushed.Select(id => id.ToString()).OrderBy(id => id, StringComparer.Ordinal).Take(5).ToArray();
        Assert.True(shown.Length == 5 && shown.OrderBy(id => id, StringComparer.Ordinal).SequenceEqual(oldest),
            $"Page 2 (the 5 oldest jobs) showed {shown.Length} rows after the first page's live reload, started before the " +
            $"operator clicked Next →, was answered: {(shown.Intersect(oldest).Any() ? "" : "none of ")}the 5 oldest jobs" +
            $" under '{await page.Locator("#page-number").TextContentAsync()}'");
        await Expect(page.Locator("#page-number")).ToHaveTextAsync("Page 2");
        await page.Context.CloseAsync();
        await fixture.Admin.DeleteAsync(JobSelection.Matching(new JobQuery { PayloadText = marker }));
    }
}
