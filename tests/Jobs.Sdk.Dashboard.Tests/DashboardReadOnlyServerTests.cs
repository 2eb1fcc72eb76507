using System.Text.Json;
using Jobs.Sdk.Drivers;
using Jobs.Sdk.Postgres;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using static Microsoft.Playwright.Assertions;

namespace Jobs.Sdk.Dashboard.Tests;

/// <summary>
/// A dashboard that reads a read-only server (the old primary after a failover behind one host name, a standby, a read
/// replica): its reads never fail, so without a check nothing tells the operator that every figure may be stale, and its
/// actions fail only when clicked. The server is made read-only for new connections to a database of the test's own
/// (<c>ALTER DATABASE … SET default_transaction_read_only</c>; other tests are not affected), the app's pool is cleared so
/// its next connections get it, and then it is undone while the pool keeps its read-only sessions (what a pool holds after a
/// failover behind one host name). Real Kestrel, real PostgreSQL, real Chromium.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class DashboardReadOnlyServerTests(BrowserFixture fixture)
{
    private const string Reason = "default_transaction_read_only is on";

    [Fact]
    public async Task A_dashboard_reading_a_read_only_server_says_so_and_disables_its_actions_until_the_server_is_writable_again()
    {
        await using var server = await ReadOnlyServer.StartAsync(fixture.PostgresConnectionString);
        var baseUrl = server.BaseUrl;
        await server.Queue.PushAsync(new TestEmail("ro@example.com", "hello"));

        // Writable: no banner, the queue's Pause button is enabled.
        Assert.Null(await NextSnapshotAsync(baseUrl, s => true));
        var page = await fixture.NewPageAsync();
        await page.GotoAsync(baseUrl + "#/queues");
        var pause = page.Locator("tr[data-queue='ro'] button", new() { HasText = "Pause" });
        await Expect(pause).ToBeEnabledAsync();
        await Expect(page.Locator("#server-read-only-banner")).ToHaveCountAsync(0);

        // The server turns read-only for the dashboard's new connections (as after a failover behind one host name).
        await server.SetReadOnlyAsync(true);
        Assert.Equal(Reason, await NextSnapshotAsync(baseUrl, s => s is not null));
        await Expect(page.Locator("#server-read-only-banner")).ToContainTextAsync(
            $"This dashboard reads a read-only server ({Reason}): figures may be stale and actions will be refused.");
        await Expect(pause).ToBeDisabledAsync();
        await Expect(pause).ToHaveAttributeAsync("title", new System.Text.RegularExpressions.Regex("read-only \\(" + Reason + "\\)"));
        await BrowserFixture.ScreenshotAsync(page, "read-only-server");

        // Writable again for new connections, but the pool's open ones stay read-only sessions: a process that only reads
        // stays on them (as on the old primary after a failover behind one host name) unless it moves its pool itself.
        // The check clears the pool (at most every 10 s): the banner goes, the button comes back, without a reload.
        await server.SetReadOnlyAsync(false);
        Assert.Null(await NextSnapshotAsync(baseUrl, s => s is null));
        await Expect(page.Locator("#server-read-only-banner")).ToHaveCountAsync(0);
        await Expect(pause).ToBeEnabledAsync();
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task The_session_says_whether_the_server_is_read_only_so_a_page_shows_it_when_it_loads()
    {
        await using var server = await ReadOnlyServer.StartAsync(fixture.PostgresConnectionString);
        await server.Queue.PushAsync(new TestEmail("ro@example.com", "hello"));
        Assert.Null(await SessionReadOnlyAsync(server.BaseUrl));

        await server.SetReadOnlyAsync(true);
        Assert.Equal(Reason, await SessionReadOnlyAsync(server.BaseUrl));

        // A page opened now says so from the session alone, before any live snapshot (held here) could tell it.
        var page = await fixture.NewPageAsync();
        var held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await page.RouteAsync("**/api/events", async route =>
        {
            await held.Task;
            await route.AbortAsync();
        });
        await page.GotoAsync(server.BaseUrl + "#/queues");
        await Expect(page.Locator("#server-read-only-banner")).ToContainTextAsync(
            $"This dashboard reads a read-only server ({Reason}): figures may be stale and actions will be refused.");
        var pause = page.Locator("tr[data-queue='ro'] button", new() { HasText = "Pause" });
        await Expect(pause).ToBeDisabledAsync();
        await Expect(pause).ToHaveAttributeAsync("title", new System.Text.RegularExpressions.Regex("read-only \\(" + Reason + "\\)"));
        await Expect(page.Locator("#live")).ToContainTextAsync("Connecting");
        held.SetResult();
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task The_jobs_selected_in_the_list_stay_selected_when_the_server_turns_read_only_and_back()
    {
        await using var server = await ReadOnlyServer.StartAsync(fixture.PostgresConnectionString);
        var later = new JobOptions { DelayUntil = DateTimeOffset.UtcNow.AddHours(2) };
        var ids = (await server.Queue.PushManyAsync(Enumerable.Range(0, 3).Select(i => new TestEmail($"sel{i}@example.com", "hello")), later))
            .Select(id => id.ToString()).ToArray();

        var page = await fixture.NewPageAsync();
        await page.GotoAsync(server.BaseUrl + "#/jobs");
        await Expect(page.Locator("tbody tr[data-job]")).ToHaveCountAsync(3);
        await Expect(page.Locator("#live")).ToContainTextAsync("Live");
        await page.CheckAsync($"tr[data-job='{ids[0]}'] input[type=checkbox]");
        await page.CheckAsync($"tr[data-job='{ids[2]}'] input[type=checkbox]");
        await Expect(page.Locator("#selection-count")).ToHaveTextAsync("2 selected");
        var cancel = page.Locator("button[data-action=cancel]");
        await Expect(cancel).ToBeEnabledAsync();

        // Read-only: the actions are off, and the operator's selection is still there.
        await server.SetReadOnlyAsync(true);
        await Expect(page.Locator("#server-read-only-banner")).ToBeVisibleAsync();
        await Expect(cancel).ToBeDisabledAsync();
        await AssertSelectedAsync(page, ids, [ids[0], ids[2]]);

        // Writable again (once the check has moved the pool): the actions are back, on the same selection.
        await server.SetReadOnlyAsync(false);
        await Expect(page.Locator("#server-read-only-banner")).ToHaveCountAsync(0);
        await Expect(cancel).ToBeEnabledAsync();
        await AssertSelectedAsync(page, ids, [ids[0], ids[2]]);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task An_open_bulk_confirm_dialog_disables_Confirm_while_the_server_is_read_only_and_enables_it_again_only_if_its_count_allowed_it()
    {
        await using var server = await ReadOnlyServer.StartAsync(fixture.PostgresConnectionString);
        var later = new JobOptions { DelayUntil = DateTimeOffset.UtcNow.AddHours(2) };
        await server.Queue.PushManyAsync(Enumerable.Range(0, 2).Select(i => new TestEmail($"dlg{i}@example.com", "hello")), later);
        var page = await fixture.NewPageAsync();
        await page.GotoAsync(server.BaseUrl + "#/jobs");
        await Expect(page.Locator("tbody tr[data-job]")).ToHaveCountAsync(2);
        await Expect(page.Locator("#live")).ToContainTextAsync("Live");
        await page.CheckAsync("thead input[type=checkbox]");
        var ok = page.Locator("#reason-ok");

        // Cancel would change both: Confirm is on; while the server is read-only the open dialog turns it off and says why.
        await page.ClickAsync("button[data-action=cancel]");
        await Expect(page.Locator("#reason-title")).ToHaveTextAsync("Cancel 2 selected jobs?");
        await Expect(ok).ToBeEnabledAsync();
        await server.SetReadOnlyAsync(true);
        await Expect(page.Locator("#server-read-only-banner")).ToBeVisibleAsync();
        await Expect(page.Locator("#reason-dialog")).ToBeVisibleAsync();
        await Expect(ok).ToBeDisabledAsync();
        await Expect(ok).ToHaveAttributeAsync("title", new System.Text.RegularExpressions.Regex("read-only \\(" + Reason + "\\)"));
        await Expect(page.Locator("#reason-blocked")).ToContainTextAsync($"read-only ({Reason})");

        // Writable again: the count allowed it, so Confirm is on again.
        await server.SetReadOnlyAsync(false);
        await Expect(page.Locator("#server-read-only-banner")).ToHaveCountAsync(0);
        await Expect(ok).ToBeEnabledAsync();
        await Expect(page.Locator("#reason-blocked")).ToBeHiddenAsync();
        await page.ClickAsync("#reason-cancel");

        // Retry would change none of the two pending jobs: Confirm is off, and stays off once the server is writable again.
        await page.ClickAsync("button[data-action=retry]");
        await Expect(page.Locator("#reason-title")).ToHaveTextAsync("Retry: nothing to change");
        await Expect(ok).ToBeDisabledAsync();
        await server.SetReadOnlyAsync(true);
        await Expect(page.Locator("#reason-blocked")).ToContainTextAsync($"read-only ({Reason})");
        await server.SetReadOnlyAsync(false);
        await Expect(page.Locator("#server-read-only-banner")).ToHaveCountAsync(0);
        await Expect(page.Locator("#reason-blocked")).ToBeHiddenAsync();
        await Expect(ok).ToBeDisabledAsync();
        await page.ClickAsync("#reason-cancel");
        await page.Context.CloseAsync();
    }

    private static async Task AssertSelectedAsync(Microsoft.Playwright.IPage page, string[] listed, string[] selected)
    {
        await Expect(page.Locator("#selection-count")).ToHaveTextAsync($"{selected.Length} selected");
        foreach (var id in listed)
        {
            var box = page.Locator($"tr[data-job='{id}'] input[type=checkbox]");
            if (selected.Contains(id))
            {
                await Expect(box).ToBeCheckedAsync();
            }
            else
            {
                await Expect(box).Not.ToBeCheckedAsync();
            }
        }
    }

    /// <summary><c>GET api/session</c>'s <c>serverReadOnly</c> (null: writable).</summary>
    private static async Task<string?> SessionReadOnlyAsync(string baseUrl)
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        using var json = JsonDocument.Parse(await client.GetStringAsync(baseUrl + "api/session"));
        return json.RootElement.TryGetProperty("serverReadOnly", out var value) ? value.GetString() : "(no serverReadOnly property)";
    }

    /// <summary>
    /// The dashboard app (real Kestrel) on a database of the test's own, which the test makes read-only for new connections
    /// and writable again; dropped at the end.
    /// </summary>
    private sealed class ReadOnlyServer : IAsyncDisposable
    {
        private readonly NpgsqlDataSource _admin;
        private readonly string _database;
        private WebApplication? _app;

        private ReadOnlyServer(NpgsqlDataSource admin, string database)
        {
            _admin = admin;
            _database = database;
        }

        public string BaseUrl { get; private set; } = "";
        public JobQueue Queue => _app!.Services.GetRequiredService<JobQueue>();

        public static async Task<ReadOnlyServer> StartAsync(string postgres)
        {
            var server = new ReadOnlyServer(PostgresJobsBuilderExtensions.CreateDataSource(postgres), "dashro_" + Guid.NewGuid().ToString("N")[..8]);
            try
            {
                await ExecuteAsync(server._admin, $"CREATE DATABASE \"{server._database}\"");
                var connectionString = new NpgsqlConnectionStringBuilder(postgres) { Database = server._database }.ConnectionString;
                server._app = await StartAppAsync(connectionString);
                server.BaseUrl = server._app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/') + "/jobs/";
                return server;
            }
            catch
            {
                await server.DisposeAsync();
                throw;
            }
        }

        /// <summary>
        /// Read-only: for new connections, and the app's pool is cleared so its next ones get it (as after a failover behind
        /// one host name). Writable: for new connections only; the pool keeps its read-only sessions until the check moves it.
        /// </summary>
        public async Task SetReadOnlyAsync(bool readOnly)
        {
            await ExecuteAsync(_admin, readOnly
                ? $"ALTER DATABASE \"{_database}\" SET default_transaction_read_only = on"
                : $"ALTER DATABASE \"{_database}\" RESET default_transaction_read_only");
            if (readOnly)
            {
                ((PostgresJobAdminStore)_app!.Services.GetRequiredService<IJobAdminStore>()).DataSource.Clear();
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (_app is not null)
            {
                await _app.StopAsync();
                await _app.DisposeAsync();
            }

            await ExecuteAsync(_admin, $"DROP DATABASE IF EXISTS \"{_database}\" WITH (FORCE)");
            await _admin.DisposeAsync();
        }
    }

    private static async Task<WebApplication> StartAppAsync(string connectionString)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.AddJobs(jobs => jobs.UsePostgres(connectionString, o => o.QueueName = "ro").AddJob<TestEmail, TestEmailHandler>());
        builder.Services.AddAuthorizationBuilder().AddPolicy("ops", p => p.RequireAssertion(_ => true));
        builder.Services.AddJobsDashboard(o =>
        {
            o.OperatorPolicy = "ops";
            o.LiveInterval = TimeSpan.FromMilliseconds(250);
        });
        var app = builder.Build();
        app.MapJobsDashboard("/jobs");
        await app.StartAsync();
        return app;
    }

    /// <summary>
    /// Reads the page's live events (<c>api/events</c>) until a snapshot's <c>serverReadOnly</c> satisfies <paramref name="until"/>;
    /// returns it (null: writable).
    /// </summary>
    private static async Task<string?> NextSnapshotAsync(string baseUrl, Func<string?, bool> until)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var client = new HttpClient();
        using var response = await client.GetAsync(baseUrl + "api/events", HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        response.EnsureSuccessStatusCode();
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(timeout.Token));
        var snapshot = false;
        string? seen = "(no snapshot)";
        while (await ReadLineAsync(reader, timeout.Token, () => seen) is { } line)
        {
            if (line.StartsWith("event: ", StringComparison.Ordinal))
            {
                snapshot = line == "event: snapshot";
            }
            else if (snapshot && line.StartsWith("data: ", StringComparison.Ordinal))
            {
                using var json = JsonDocument.Parse(line["data: ".Length..]);
                var readOnly = json.RootElement.TryGetProperty("serverReadOnly", out var value) ? value.GetString() : "(no serverReadOnly property)";
                if (until(readOnly))
                {
                    return readOnly;
                }

                seen = readOnly;
            }
        }

        throw new InvalidOperationException($"The event stream ended; the last snapshot's serverReadOnly was {seen}.");
    }

    private static async Task<string?> ReadLineAsync(StreamReader reader, CancellationToken timeout, Func<string?> seen)
    {
        try
        {
            return await reader.ReadLineAsync(timeout);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            throw new TimeoutException($"Timed out after 60 s waiting for the live snapshot; the last one's serverReadOnly was {seen() ?? "null"}.");
        }
    }

    private static async Task ExecuteAsync(NpgsqlDataSource dataSource, string sql)
    {
        await using var command = dataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }
}
