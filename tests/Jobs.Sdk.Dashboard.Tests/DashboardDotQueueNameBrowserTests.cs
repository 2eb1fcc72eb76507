using Jobs.Sdk.Samples.Dashboard.Jobs;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Jobs.Sdk.Dashboard.Tests;

/// <summary>
/// Queue names are free text, and "." and ".." are valid ones. As a path segment they are relative steps, which browsers
/// (and servers) remove: <c>api/queues/./pause</c> is requested as <c>api/queues/pause</c>. Pause and Resume on their rows
/// must act on that queue and on no other. Real Kestrel, real PostgreSQL, headless Chromium.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class DashboardDotQueueNameBrowserTests(BrowserFixture fixture)
{
    /// <summary>The dot-only names, and names their URLs could be mistaken for.</summary>
    private static readonly string[] Names = [".", "..", "...", "_", "pause", "queues"];

    private JobQueue Queue => fixture.App.Services.GetRequiredService<JobQueue>();

    [Fact]
    public async Task Pause_and_resume_on_the_rows_of_queues_named_dot_and_dot_dot_act_on_that_queue_only()
    {
        var jobs = new List<JobId>();
        foreach (var name in Names)
        {
            jobs.Add(await Queue.PushAsync(new SendWelcomeEmail("dots@example.com", "t"), new JobOptions { Queue = name }));
        }

        try
        {
            foreach (var queue in new[] { ".", ".." })
            {
                var page = await fixture.NewPageAsync();
                await page.GotoAsync(fixture.BaseUrl + "#/queues");
                var row = page.Locator($"main tr[data-queue='{queue}']");
                foreach (var (button, paused) in new[] { ("Pause", true), ("Resume", false) })
                {
                    var before = await PausedAsync();
                    await row.GetByRole(AriaRole.Button, new() { Name = button }).ClickAsync();
                    await page.ClickAsync("#reason-ok");
                    await Expect(page.Locator(".toast")).ToHaveCountAsync(1);
                    var toast = await page.Locator(".toast").TextContentAsync();
                    var after = await PausedAsync();
                    var expected = paused ? before.Append(queue).Order(StringComparer.Ordinal).ToArray() : before.Where(n => n != queue).ToArray();
                    Assert.True(after.SequenceEqual(expected),
                        $"{button} on the row of queue '{queue}' (toast: {toast}): paused before [{Show(before)}], after [{Show(after)}]; " +
                        $"expected [{Show(expected)}]");
                    await Expect(row.GetByRole(AriaRole.Button, new() { Name = paused ? "Resume" : "Pause" })).ToBeVisibleAsync();
                    await page.Locator(".toast").EvaluateAllAsync<int>("ts => { ts.forEach(t => t.remove()); return ts.length; }");
                }

                await page.Context.CloseAsync();
            }
        }
        finally
        {
            foreach (var name in Names)
            {
                await fixture.Admin.ResumeQueueAsync(name);
            }

            await fixture.Admin.DeleteAsync(JobSelection.Ids([.. jobs]));
        }
    }

    private async Task<string[]> PausedAsync()
        => (await fixture.Admin.GetQueuesAsync()).Where(q => q.IsPaused).Select(q => q.Name).Order(StringComparer.Ordinal).ToArray();

    private static string Show(IEnumerable<string> names) => string.Join(", ", names.Select(n => $"'{n}'"));
}
