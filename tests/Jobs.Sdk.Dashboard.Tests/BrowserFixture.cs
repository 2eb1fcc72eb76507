using Jobs.Sdk.Postgres.Tests;
using Jobs.Sdk.Samples.Dashboard;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Playwright;

namespace Jobs.Sdk.Dashboard.Tests;

/// <summary>
/// The dashboard sample on a throwaway PostgreSQL (real Kestrel on 127.0.0.1, a free port), and headless Chromium from the
/// system's <c>chromium</c> package driven by Playwright. Fails loudly (never skips) when Chromium or PostgreSQL is missing.
/// </summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    /// <summary>Debian's Chromium (installed by .ci/chromium.sh); browsers cannot be downloaded here.</summary>
    public const string ChromiumPath = "/usr/bin/chromium";

    internal static readonly string[] ChromiumArgs =
    [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync",
    ];

    private readonly PostgresFixture _postgres = new();
    private IPlaywright? _playwright;

    public WebApplication App { get; private set; } = null!;
    public IBrowser Browser { get; private set; } = null!;
    public string BaseUrl { get; private set; } = "";

    /// <summary>The throwaway PostgreSQL the sample runs on (other tests use their own schema in it).</summary>
    public string PostgresConnectionString => _postgres.ConnectionString;
    public JobAdmin Admin => App.Services.GetRequiredService<JobAdmin>();

    /// <summary>Where screenshots go: the test results folder (VSTestResultsDirectory in CI, else the project's TestResults).</summary>
    public static string ScreenshotDirectory { get; } = Path.Combine(
        Environment.GetEnvironmentVariable("VSTestResultsDirectory") is { Length: > 0 } results
            ? results
            : Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "TestResults")),
        "dashboard-screenshots");

    public async Task InitializeAsync()
    {
        if (!File.Exists(ChromiumPath))
        {
            throw new InvalidOperationException(
                $"Chromium is missing at {ChromiumPath}: the dashboard's browser tests need Debian's chromium package. " +
                "Install it with `apt-get update && apt-get install -y chromium` (CI does this in .ci/chromium.sh).");
        }

        await _postgres.InitializeAsync();
        App = DashboardSampleApp.Build([], builder =>
        {
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["JOBS_CONNECTION"] = _postgres.ConnectionString,
                ["Jobs:Schema"] = "dash_" + Guid.NewGuid().ToString("N")[..8],
                ["Jobs:QueueName"] = "sample",
                ["Sample:Seed"] = "true",
                ["urls"] = "http://127.0.0.1:0",
            });
            builder.Logging.ClearProviders();
        });
        await App.StartAsync();
        var address = App.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        BaseUrl = address.TrimEnd('/') + "/jobs/";

        // The seeded jobs ran: charge-card failed its first attempt, import-feed failed for good, welcome e-mails completed.
        await Eventually.Async(async () =>
        {
            var failed = await Admin.ListJobsAsync(new JobQuery { States = [JobState.Failed] });
            var completed = await Admin.ListJobsAsync(new JobQuery { States = [JobState.Completed] });
            return failed.Items.Count >= 2 && completed.Items.Count >= 12;
        }, "the seeded jobs to finish", seconds: 120);

        // The throughput chart's data: the sample's worker reports its counts with its presence heartbeat.
        await Eventually.Async(async () =>
        {
            var minutes = await Admin.GetThroughputAsync(DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddMinutes(1));
            return minutes.Sum(m => m.Completed) > 0 && minutes.Sum(m => m.Failed) > 0;
        }, "the worker to report its throughput", seconds: 120);

        // CI shares two cores between test projects: give auto-waiting assertions room (they return as soon as they hold).
        Assertions.SetDefaultExpectTimeout(30_000);
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ChromiumArgs,
            Timeout = 60_000,
        });
        Directory.CreateDirectory(ScreenshotDirectory);
    }

    /// <summary>A new page in a new context (own cookies), desktop size by default.</summary>
    public async Task<IPage> NewPageAsync(int width = 1366, int height = 900, ColorScheme scheme = ColorScheme.Light)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            ViewportSize = new ViewportSize { Width = width, Height = height },
            ColorScheme = scheme,
            TimezoneId = "Europe/Paris",
            Locale = "en-GB",
        });
        context.SetDefaultTimeout(30_000);
        return await context.NewPageAsync();
    }

    public static Task ScreenshotAsync(IPage page, string name)
        => page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ScreenshotDirectory, name + ".png"), FullPage = true });

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }

        _playwright?.Dispose();
        if (App is not null)
        {
            await App.StopAsync();
            await App.DisposeAsync();
        }

        await _postgres.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class BrowserCollection : ICollectionFixture<BrowserFixture>
{
    public const string Name = "Browser";
}

/// <summary>Polls a condition until it holds or a deadline passes (no sleeps as synchronisation).</summary>
public static class Eventually
{
    public static async Task Async(Func<Task<bool>> condition, string what, int seconds = 30)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Timed out after {seconds} s waiting for {what}.");
            }

            await Task.Delay(50);
        }
    }
}
