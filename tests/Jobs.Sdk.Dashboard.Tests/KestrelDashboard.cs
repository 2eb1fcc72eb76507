using Jobs.Sdk.Postgres;
using Jobs.Sdk.Postgres.Tests;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Playwright;

namespace Jobs.Sdk.Dashboard.Tests;

/// <summary>
/// The dashboard at <c>/jobs</c> on real Kestrel (127.0.0.1, a free port) over PostgreSQL in a schema of its own, dropped
/// when disposed, with an HTTP client on the mount path and headless Chromium tabs on demand.
/// </summary>
internal sealed class KestrelDashboard : IAsyncDisposable
{
    private IPlaywright? _playwright;
    private IBrowser? _browser;

    private KestrelDashboard(WebApplication app, string schema, HttpClient http)
    {
        App = app;
        Schema = schema;
        Http = http;
    }

    public WebApplication App { get; }
    public string Schema { get; }
    public HttpClient Http { get; }

    /// <param name="postgres">The server.</param>
    /// <param name="schemaPrefix">The schema's name before a random suffix.</param>
    /// <param name="queueName">The driver's queue.</param>
    /// <param name="jobs">More of the jobs registration (job types).</param>
    public static async Task<KestrelDashboard> StartAsync(PostgresFixture postgres, string schemaPrefix, string queueName, Action<JobsBuilder>? jobs = null)
    {
        var schema = schemaPrefix + Guid.NewGuid().ToString("N")[..8];
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.AddJobs(b =>
        {
            b.UsePostgres(postgres.ConnectionString, o =>
            {
                o.Schema = schema;
                o.QueueName = queueName;
            });
            jobs?.Invoke(b);
        });
        builder.Services.AddJobsDashboard();
        var app = builder.Build();
        app.MapJobsDashboard("/jobs");
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new KestrelDashboard(app, schema, new HttpClient { BaseAddress = new Uri(address.TrimEnd('/') + "/jobs/") });
    }

    /// <summary>A new headless Chromium tab (en-GB, 30 s per action as a hang guard) on the page's <paramref name="hash"/>.</summary>
    public async Task<IPage> OpenAsync(string hash)
    {
        _playwright ??= await Playwright.CreateAsync();
        _browser ??= await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = BrowserFixture.ChromiumPath, Headless = true, Args = BrowserFixture.ChromiumArgs, Timeout = 60_000,
        });
        var context = await _browser.NewContextAsync(new BrowserNewContextOptions { Locale = "en-GB" });
        context.SetDefaultTimeout(30_000);
        var tab = await context.NewPageAsync();
        await tab.GotoAsync(Http.BaseAddress + hash);
        return tab;
    }

    public async ValueTask DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.DisposeAsync();
        }

        _playwright?.Dispose();
        Http.Dispose();
        await App.StopAsync();
        await using (var drop = App.Services.GetRequiredService<PostgresJobDriver>().DataSource.CreateCommand($"DROP SCHEMA \"{Schema}\" CASCADE"))
        {
            await drop.ExecuteNonQueryAsync();
        }

        await App.DisposeAsync();
    }
}
