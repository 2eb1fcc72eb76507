using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Jobs.Sdk.Dashboard.Tests;

/// <summary>
/// An operator moves on before a view's data arrives: the late answer must not draw the old view over the one now shown
/// (the nav says "Audit log", the page would show the queues, and stay so until the store changes).
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class DashboardStaleViewBrowserTests(BrowserFixture fixture)
{
    // Marks when the page has handled api/queues' answer: set in a task after the microtasks that follow its JSON (where
    // the view draws it).
    private const string MarkQueuesHandled = """
        const original = window.fetch;
        window.fetch = (...args) => original(...args).then(response => {
          if (String(args[0]).startsWith('api/queues')) {
            const json = response.json.bind(response);
            response.json = () => json().then(body => { setTimeout(() => { window.__queuesHandled = true; }); return body; });
          }
          return response;
        });
        """;

    [Fact]
    public async Task A_late_answer_of_the_view_left_does_not_replace_the_view_shown()
    {
        var page = await fixture.NewPageAsync();
        await page.AddInitScriptAsync(MarkQueuesHandled);
        await page.GotoAsync(fixture.BaseUrl + "#/audit");
        await Expect(page.Locator("main h1")).ToHaveTextAsync("Audit log");

        var held = new TaskCompletionSource<IRoute>(TaskCreationOptions.RunContinuationsAsynchronously);
        await page.RouteAsync("**/api/queues", route => { held.TrySetResult(route); return Task.CompletedTask; });
        await page.GotoAsync(fixture.BaseUrl + "#/queues");
        var queuesRequest = await held.Task.WaitAsync(TimeSpan.FromSeconds(60));
        await page.GotoAsync(fixture.BaseUrl + "#/audit");
        await Expect(page.Locator("main h1")).ToHaveTextAsync("Audit log");
        await Expect(page.Locator("main table")).ToBeVisibleAsync();

        await queuesRequest.ContinueAsync();
        await page.WaitForFunctionAsync("() => window.__queuesHandled === true");
        Assert.Equal(["Audit log"], await page.Locator("main h1").AllTextContentsAsync());
        await Expect(page.Locator("a[data-nav=audit]")).ToHaveAttributeAsync("aria-current", "page");
        await page.Context.CloseAsync();
    }
}
