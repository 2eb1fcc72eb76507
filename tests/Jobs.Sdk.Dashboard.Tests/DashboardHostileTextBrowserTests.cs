using Jobs.Sdk.Samples.Dashboard.Jobs;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Jobs.Sdk.Dashboard.Tests;

/// <summary>
/// Text that came from application input (payloads, error messages, queue names, pause and audit reasons, actors) is
/// shown as text: markup in it runs nothing on any view, and operator actions on a hostile-named queue reach that queue.
/// Real Kestrel, real PostgreSQL, headless Chromium.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class DashboardHostileTextBrowserTests(BrowserFixture fixture)
{
    // Each sets window.__pwned when it runs: the test asserts it stays undefined.
    private const string Img = "<img src=x onerror=\"window.__pwned='img'\">";
    private const string Svg = "\"><svg onload=\"window.__pwned='svg'\">";
    private const string Script = "<script>window.__pwned='script'</script>";
    private const string JavaScriptUrl = "javascript:window.__pwned='href'";

    private JobQueue Queue => fixture.App.Services.GetRequiredService<JobQueue>();

    [Fact]
    public async Task Markup_in_payloads_errors_queue_names_and_reasons_is_shown_as_text_on_every_view_and_runs_nothing()
    {
        var queue = "q" + Img + Svg;
        var orderId = Img + Svg + Script + JavaScriptUrl;
        var pending = await Queue.PushAsync(new SendWelcomeEmail(JavaScriptUrl, Img + Script), new JobOptions { Queue = queue });
        // Fails its first attempt with the order id in the error ("…for order <img …>"), then retries.
        var failing = await Queue.PushAsync(new ChargeCard(orderId, 100, Svg));
        await fixture.Admin.PauseQueueAsync(queue, "reason " + Svg + Img, new AuditInfo(Img, "audit " + Script + Svg));
        await Eventually.Async(async () => (await fixture.Admin.GetJobAsync(failing))?.Errors.Count > 0, "the charge to fail once", seconds: 60);
        try
        {
            var page = await fixture.NewPageAsync();
            await page.GotoAsync(fixture.BaseUrl);
            await Expect(page.Locator("#live")).ToContainTextAsync("Live");
            await Expect(page.Locator("main")).ToContainTextAsync(queue);
            await AssertNothingRanAsync(page, "overview");

            foreach (var view in new[] { "#/queues", "#/audit", "#/workers", "#/schedules" })
            {
                await page.GotoAsync(fixture.BaseUrl + view);
                await Expect(page.Locator("main .loading")).ToHaveCountAsync(0);
                await AssertNothingRanAsync(page, view);
            }

            await page.GotoAsync(fixture.BaseUrl + "#/queues");
            await Expect(page.Locator("main")).ToContainTextAsync("reason " + Svg + Img);
            await page.GotoAsync(fixture.BaseUrl + "#/audit");
            await Expect(page.Locator("main")).ToContainTextAsync("audit " + Script + Svg);
            await Expect(page.Locator("main")).ToContainTextAsync(Img);

            await page.GotoAsync(fixture.BaseUrl + "#/jobs?queue=" + Uri.EscapeDataString(queue));
            await Expect(page.Locator($"tbody tr[data-job='{pending}']")).ToBeVisibleAsync();
            await AssertNothingRanAsync(page, "jobs list by hostile queue");
            await page.GotoAsync(fixture.BaseUrl + "#/jobs?text=" + Uri.EscapeDataString(orderId));
            var row = page.Locator($"tbody tr[data-job='{failing}']");
            await Expect(row.Locator(".error-cell")).ToContainTextAsync(orderId);
            await AssertNothingRanAsync(page, "jobs list with a hostile error");

            await page.GotoAsync(fixture.BaseUrl + "#/jobs/" + pending);
            await Expect(page.Locator("main")).ToContainTextAsync(JavaScriptUrl);
            await Expect(page.Locator("main")).ToContainTextAsync(queue);
            await AssertNothingRanAsync(page, "hostile payload's job page");
            await page.GotoAsync(fixture.BaseUrl + "#/jobs/" + failing);
            await Expect(page.Locator("main")).ToContainTextAsync("order " + orderId);
            await AssertNothingRanAsync(page, "hostile error's job page");
            // Hovering and opening what an operator would: the error cell's tooltip, the confirm dialog.
            await page.GotoAsync(fixture.BaseUrl + "#/queues");
            var queueRow = page.Locator("main tr", new() { HasText = queue });
            await queueRow.GetByRole(AriaRole.Button, new() { Name = "Resume" }).ClickAsync();
            await Expect(page.Locator("#reason-title")).ToHaveTextAsync($"Resume queue “{queue}”?");
            await page.ClickAsync("#reason-cancel");
            await AssertNothingRanAsync(page, "confirm dialog");
            await page.Context.CloseAsync();
        }
        finally
        {
            await fixture.Admin.ResumeQueueAsync(queue);
            await fixture.Admin.DeleteAsync(JobSelection.Ids(pending, failing));
        }
    }

    [Fact]
    public async Task A_queue_whose_name_has_URL_delimiters_is_linked_filtered_and_paused_as_itself()
    {
        // Passes as written: '?', '#', '%', '&', '=' and '+' in a queue name survive the queues page's link into the jobs
        // list (a URL query inside the fragment) and the Pause button's path segment.
        foreach (var queue in new[] { "a?b#c", "50% & 1+1=2" })
        {
            var job = await Queue.PushAsync(new SendWelcomeEmail("x@example.com", "t"), new JobOptions { Queue = queue });
            try
            {
                var page = await fixture.NewPageAsync();
                await page.GotoAsync(fixture.BaseUrl + "#/queues");
                await QueueRow(page, queue).Locator("td").First.GetByRole(AriaRole.Link).ClickAsync();
                await Expect(page.Locator($"tbody tr[data-job='{job}']")).ToBeVisibleAsync();
                await Expect(page.Locator("#f-queue")).ToHaveValueAsync(queue);

                await PauseOnQueuesPageAsync(page, queue);
                await page.Context.CloseAsync();
            }
            finally
            {
                await fixture.Admin.ResumeQueueAsync(queue);
                await fixture.Admin.DeleteAsync(JobSelection.Ids(job));
            }
        }
    }

    [Fact]
    public async Task Pausing_a_queue_whose_name_has_a_slash_pauses_that_queue()
    {
        // Queue names are free text (tenants, paths): "tenant/acme" is a valid one, and so is "tenant%2Facme" (the route
        // value of the first, as the server decodes the path).
        foreach (var queue in new[] { "tenant/acme", "tenant%2Facme", "x%252F/y" })
        {
            var job = await Queue.PushAsync(new SendWelcomeEmail("x@example.com", "t"), new JobOptions { Queue = queue });
            try
            {
                var page = await fixture.NewPageAsync();
                await PauseOnQueuesPageAsync(page, queue);
                await page.Context.CloseAsync();
            }
            finally
            {
                await fixture.Admin.ResumeQueueAsync(queue);
                await fixture.Admin.DeleteAsync(JobSelection.Ids(job));
            }
        }
    }

    /// <summary>The queues page's row of <paramref name="queue"/> (the one with a Pause button).</summary>
    private static ILocator QueueRow(IPage page, string queue)
        => page.Locator("main tr", new() { HasText = queue }).Filter(new() { Has = page.GetByRole(AriaRole.Button, new() { Name = "Pause" }) });

    /// <summary>Pauses <paramref name="queue"/> with its row's Pause button on the queues page; asserts the store paused that queue.</summary>
    private async Task PauseOnQueuesPageAsync(IPage page, string queue)
    {
        await page.GotoAsync(fixture.BaseUrl + "#/queues");
        var row = QueueRow(page, queue);
        await Expect(row.Locator("td").First).ToHaveTextAsync(queue);
        await row.GetByRole(AriaRole.Button, new() { Name = "Pause" }).ClickAsync();
        await page.ClickAsync("#reason-ok");
        await Expect(page.Locator(".toast")).ToHaveCountAsync(1);
        var toast = await page.Locator(".toast").TextContentAsync();
        var queues = await fixture.Admin.GetQueuesAsync();
        Assert.True(queues.SingleOrDefault(q => q.Name == queue)?.IsPaused == true,
            $"queue '{queue}' is not paused after Pause (toast: {toast}); paused: {string.Join(", ", queues.Where(q => q.IsPaused).Select(q => q.Name))}");
    }

    [Theory]
    [InlineData("text/plain", "api/jobs/delete", "{\"filter\":{},\"x\":\"", "\"}")]
    [InlineData("application/x-www-form-urlencoded", "api/jobs/delete", "filter", "{}")]
    [InlineData("multipart/form-data", "api/queues/sample/pause", "reason", "csrf")]
    public async Task A_page_of_another_site_cannot_act_with_the_operators_browser(string enctype, string endpoint, string field, string value)
    {
        var job = await Queue.PushAsync(new SendWelcomeEmail("csrf@example.com", "t"), new JobOptions { Queue = "csrf-target" });
        try
        {
            // The operator has the dashboard open (its antiforgery cookie is set), then visits another site.
            var page = await fixture.NewPageAsync();
            await page.GotoAsync(fixture.BaseUrl);
            await Expect(page.Locator("#live")).ToContainTextAsync("Live");
            var target = fixture.BaseUrl + endpoint;
            await page.Context.RouteAsync("http://evil.test/**", route => route.FulfillAsync(new()
            {
                ContentType = "text/html",
                Body = $"<form method=post enctype=\"{enctype}\" action=\"{target}\"><input name='{field}' value='{value}'></form>" +
                    "<script>document.forms[0].submit()</script>",
            }));
            var response = await page.RunAndWaitForResponseAsync(() => page.GotoAsync("http://evil.test/"), r => r.Url == target);
            Assert.True(response.Status is 400 or 415, $"{enctype} POST to {endpoint}: {response.Status} {await response.TextAsync()}");
            Assert.NotNull(await fixture.Admin.GetJobAsync(job));
            Assert.DoesNotContain(await fixture.Admin.GetQueuesAsync(), q => q.IsPaused && q.Name == "sample");
            await page.Context.CloseAsync();
        }
        finally
        {
            await fixture.Admin.DeleteAsync(JobSelection.Ids(job));
        }
    }

    [Fact]
    public async Task Every_endpoint_forbids_framing_and_sniffing_and_job_data_is_never_cached()
    {
        var job = await Queue.PushAsync(new SendWelcomeEmail("headers@example.com", "t"), new JobOptions { Queue = "headers" });
        try
        {
            using var client = new HttpClient { BaseAddress = new Uri(fixture.BaseUrl) };
            using var session = await client.GetAsync("api/session");
            var paths = new[] { "", "assets/app.js", "assets/missing.js", "api/session", "api/jobs", $"api/jobs/{job}", "api/jobs/not-a-uuid",
                "api/queues", "api/schedules", "api/workers", "api/audit", "api/events" };
            foreach (var path in paths)
            {
                using var response = await client.GetAsync(path, HttpCompletionOption.ResponseHeadersRead);
                Assert.True(response.Headers.TryGetValues("Content-Security-Policy", out var csp) && csp.Single().Contains("frame-ancestors 'none'", StringComparison.Ordinal),
                    $"{path}: no frame-ancestors in the CSP");
                Assert.Equal("DENY", response.Headers.GetValues("X-Frame-Options").Single());
                Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
                if (path.StartsWith("api/", StringComparison.Ordinal))
                {
                    Assert.True(response.Headers.CacheControl?.NoStore == true, $"{path}: Cache-Control {response.Headers.CacheControl}");
                }
            }

            // Actions and previews too, refused or not.
            foreach (var path in new[] { "api/jobs/cancel", "api/jobs/cancel/preview", "api/queues/headers/pause" })
            {
                using var response = await client.PostAsync(path, new StringContent("{}", System.Text.Encoding.UTF8, "application/json"));
                Assert.Equal("DENY", response.Headers.GetValues("X-Frame-Options").Single());
                Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
                Assert.True(response.Headers.CacheControl?.NoStore == true, $"POST {path} ({response.StatusCode}): Cache-Control {response.Headers.CacheControl}");
            }
        }
        finally
        {
            await fixture.Admin.DeleteAsync(JobSelection.Ids(job));
        }
    }

    private static async Task AssertNothingRanAsync(IPage page, string where)
    {
        Assert.True(await page.EvaluateAsync<string?>("window.__pwned ?? null") is null, $"markup ran on {where}");
        // No element the markup would have made (the chart's own svg is the only svg the page draws).
        Assert.Equal(0, await page.Locator("main img, main script, main svg:not(.chart), #reason-dialog img, #reason-dialog svg, a[href^='javascript:' i]").CountAsync());
    }
}
