using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;

namespace Jobs.Sdk.Dashboard.Tests;

/// <summary>The read endpoints: jobs list (filters, newest first, cursor paging), job detail, page and assets.</summary>
public sealed class DashboardReadTests
{
    [Fact]
    public async Task Jobs_list_filters_by_state_name_text_and_error_newest_first_with_cursor_paging()
    {
        await using var app = await DashboardTestApp.StartAsync(protect: false);
        var ids = new List<JobId>();
        for (var i = 0; i < 5; i++)
        {
            ids.Add(await app.Queue.PushAsync(new TestEmail($"user{i}@example.com", i % 2 == 0 ? "welcome" : "invoice")));
        }

        await app.Admin.CancelAsync(JobSelection.Ids(ids[4]));
        var local = Caller.LocalAnonymous;

        // Pages of 2 by cursor: every job exactly once, newest first (ids pushed in the same millisecond may come in either order).
        var seen = new List<JsonElement>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var page = await ReadAsync(app, "api/jobs?limit=2" + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor)), local);
            seen.AddRange(page.GetProperty("items").EnumerateArray());
            cursor = page.GetProperty("nextCursor").GetString();
            pages++;
        }
        while (cursor is not null && pages < 10);
        Assert.Equal(3, pages);
        Assert.Equal(ids.Select(i => i.ToString()).Order(), seen.Select(j => j.GetProperty("id").GetString()!).Order());
        // Newest first: by the time-ordered id (UUID v7: its first 48 bits are the Unix time in milliseconds).
        var pushedAt = seen.Select(j => Convert.ToInt64(j.GetProperty("id").GetString()!.Replace("-", "", StringComparison.Ordinal)[..12], 16)).ToArray();
        Assert.Equal(pushedAt.OrderDescending(), pushedAt);

        Assert.Equal([ids[4].ToString()], Ids(await ReadAsync(app, "api/jobs?state=cancelled", local)));
        Assert.Equal(4, Ids(await ReadAsync(app, "api/jobs?state=pending&queue=emails&name=test-email", local)).Length);
        Assert.Empty(Ids(await ReadAsync(app, "api/jobs?queue=other", local)));
        Assert.Equal(new[] { ids[1].ToString(), ids[3].ToString() }.Order(), Ids(await ReadAsync(app, "api/jobs?text=INVOICE", local)).Order());
        Assert.Equal([ids[2].ToString()], Ids(await ReadAsync(app, "api/jobs?text=user2@", local)));
        Assert.Empty(Ids(await ReadAsync(app, "api/jobs?error=timeout", local)));

        var first = (await ReadAsync(app, "api/jobs?state=cancelled", local)).GetProperty("items")[0];
        Assert.Equal("cancelled", first.GetProperty("state").GetString());
        Assert.Equal("normal", first.GetProperty("priority").GetString());
        Assert.Equal("emails", first.GetProperty("queue").GetString());
    }

    [Fact]
    public async Task Job_detail_has_payload_headers_attempts_and_timestamps()
    {
        await using var app = await DashboardTestApp.StartAsync(protect: false);
        var id = await app.Queue.PushAsync(new TestEmail("a@example.com", "hello"));
        var detail = await ReadAsync(app, $"api/jobs/{id}", Caller.LocalAnonymous);
        var job = detail.GetProperty("job");
        Assert.Equal(id.ToString(), job.GetProperty("id").GetString());
        Assert.Equal("test-email", job.GetProperty("name").GetString());
        Assert.Equal("pending", job.GetProperty("state").GetString());
        Assert.Equal(0, job.GetProperty("attempts").GetInt32());
        using var payload = JsonDocument.Parse(detail.GetProperty("payload").GetString()!);
        Assert.Equal("a@example.com", payload.RootElement.GetProperty("to").GetString());
        Assert.Equal(JsonValueKind.Object, detail.GetProperty("headers").ValueKind);
        Assert.Equal(JsonValueKind.Array, detail.GetProperty("errors").ValueKind);
        Assert.True(DateTimeOffset.Parse(job.GetProperty("queuedAt").GetString()!, System.Globalization.CultureInfo.InvariantCulture) <= DateTimeOffset.UtcNow);
    }

    [Fact]
    public async Task Job_detail_shows_each_attempts_error_with_its_stack_trace()
    {
        await using var app = await DashboardTestApp.StartAsync(protect: false);
        var id = await app.Queue.PushAsync(new TestEmail("a@example.com", "hello"));
        var driver = app.App.Services.GetRequiredService<Jobs.Sdk.Drivers.IJobDriver>();
        var claimed = Assert.Single(await driver.ClaimAsync(new Jobs.Sdk.Drivers.JobClaimRequest("w", 1, TimeSpan.FromMinutes(1)), default));
        await driver.CompleteAsync("w",
            [new Jobs.Sdk.Drivers.JobOutcome(id, JobOutcomeKind.Failed, 1, Error: "System.IO.IOException: disk full", LeaseToken: claimed.LeaseToken)
            {
                StackTrace = "System.IO.IOException: disk full\n   at Mailer.SendAsync()",
            }], default);

        var detail = await ReadAsync(app, $"api/jobs/{id}", Caller.LocalAnonymous);
        var error = Assert.Single(detail.GetProperty("errors").EnumerateArray());
        Assert.Equal("System.IO.IOException: disk full", error.GetProperty("error").GetString());
        Assert.Equal("System.IO.IOException: disk full\n   at Mailer.SendAsync()", error.GetProperty("stackTrace").GetString());
    }

    [Fact]
    public async Task Page_and_assets_are_embedded_served_with_security_headers_and_the_mount_path_redirects_to_a_trailing_slash()
    {
        await using var app = await DashboardTestApp.StartAsync(protect: false);
        var toMount = app.Request(HttpMethod.Get, "", Caller.LocalAnonymous);
        toMount.RequestUri = new Uri("/jobs?x=1", UriKind.Relative);
        using var redirect = await app.Client.SendAsync(toMount);
        Assert.Equal(HttpStatusCode.Redirect, redirect.StatusCode);
        Assert.Equal("/jobs/?x=1", redirect.Headers.Location!.OriginalString);

        using var page = await app.GetAsync("", Caller.LocalAnonymous);
        Assert.Equal("text/html", page.Content.Headers.ContentType!.MediaType);
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains("assets/app.js", html, StringComparison.Ordinal);
        Assert.DoesNotContain("http://", html, StringComparison.Ordinal);
        Assert.DoesNotContain("https://", html, StringComparison.Ordinal);
        var csp = page.Headers.GetValues("Content-Security-Policy").Single();
        Assert.Contains("script-src 'self'", csp, StringComparison.Ordinal);
        Assert.Contains("frame-ancestors 'none'", csp, StringComparison.Ordinal);

        foreach (var (file, type) in new[] { ("app.js", "text/javascript"), ("app.css", "text/css"), ("chart.js", "text/javascript"), ("favicon.svg", "image/svg+xml") })
        {
            using var asset = await app.GetAsync("assets/" + file, Caller.LocalAnonymous);
            Assert.Equal(HttpStatusCode.OK, asset.StatusCode);
            Assert.Equal(type, asset.Content.Headers.ContentType!.MediaType);
            var etag = asset.Headers.ETag!;
            var conditional = app.Request(HttpMethod.Get, "assets/" + file, Caller.LocalAnonymous);
            conditional.Headers.IfNoneMatch.Add(etag);
            using var notModified = await app.Client.SendAsync(conditional);
            Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        }

        using var missing = await app.GetAsync("assets/nope.js", Caller.LocalAnonymous);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    private static async Task<JsonElement> ReadAsync(DashboardTestApp app, string path, Caller caller)
    {
        using var response = await app.GetAsync(path, caller);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    private static string[] Ids(JsonElement page) => page.GetProperty("items").EnumerateArray().Select(j => j.GetProperty("id").GetString()!).ToArray();
}
