using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using static Microsoft.Playwright.Assertions;

namespace Jobs.Sdk.Dashboard.Tests;

/// <summary>
/// The live view in a real Chromium when the app restarts behind it: the event stream drops, and the first reconnection
/// gets a 503 (what the dashboard answers while the app stops, or a proxy's 502 while it is down). The page must come back
/// live once the app serves again, without a reload.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class DashboardLiveReconnectTests(BrowserFixture fixture)
{
    [Fact]
    public async Task The_live_view_comes_back_after_the_app_answered_503_while_it_restarted()
    {
        var restarting = false;
        var refused = 0;
        var streams = new List<HttpContext>();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.AddJobs(jobs => jobs.UseInMemory(o => o.QueueName = "emails").AddJob<TestEmail, TestEmailHandler>());
        builder.Services.AddJobsDashboard(o => o.LiveInterval = TimeSpan.FromMilliseconds(500));
        await using var app = builder.Build();
        app.Use(async (context, next) =>
        {
            if (!context.Request.Path.Value!.EndsWith("/api/events", StringComparison.Ordinal))
            {
                await next(context);
                return;
            }

            if (Volatile.Read(ref restarting))
            {
                Interlocked.Increment(ref refused);
                context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
                return;
            }

            lock (streams)
            {
                streams.Add(context);
            }

            await next(context);
        });
        app.MapJobsDashboard("/jobs");
        await app.StartAsync();
        var baseUrl = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/') + "/jobs/";

        var page = await fixture.NewPageAsync();
        await page.GotoAsync(baseUrl);
        await Expect(page.Locator("#live")).ToContainTextAsync("Live");

        // The app goes down: its event streams are cut, and it answers 503 until it is back.
        Volatile.Write(ref restarting, true);
        lock (streams)
        {
            foreach (var stream in streams)
            {
                stream.Abort();
            }
        }

        await Expect(page.Locator("#live")).ToContainTextAsync("Reconnecting");
        await Eventually.Async(() => Task.FromResult(Volatile.Read(ref refused) > 0), "the browser to try again and get a 503", seconds: 30);
        Volatile.Write(ref restarting, false);

        // Back up: the page is live again, with no reload.
        await Expect(page.Locator("#live")).ToContainTextAsync("Live", new() { Timeout = 30_000 });
        await Expect(page.Locator("#live")).ToHaveAttributeAsync("title", new System.Text.RegularExpressions.Regex("^Updated "));
        await page.Context.CloseAsync();
        await app.StopAsync();
    }
}
