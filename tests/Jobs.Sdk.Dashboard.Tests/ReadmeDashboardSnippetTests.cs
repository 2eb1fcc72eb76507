using Jobs.Sdk.Postgres;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Jobs.Sdk.Dashboard.Tests;

/// <summary>README's Dashboard snippet, compiled here; the test checks README shows exactly this code and that it protects every endpoint.</summary>
public sealed class ReadmeDashboardSnippetTests
{
    [Fact]
    public async Task Readme_dashboard_snippet_compiles_matches_this_file_and_puts_the_viewer_policy_on_every_endpoint()
    {
        string[] args = ["--ConnectionStrings:Jobs=Host=127.0.0.1;Username=postgres"];

        #region dashboard
        var builder = WebApplication.CreateBuilder(args);
        var connectionString = builder.Configuration.GetConnectionString("Jobs")!;
        builder.Services.AddJobs(jobs => jobs
            .UsePostgres(connectionString)
            .AddGeneratedJobs()
            .AddWorkers());
        builder.Services.AddAuthorizationBuilder()                      // with your sign-in (cookies, OpenID Connect, ...)
            .AddPolicy("jobs-viewer", p => p.RequireAuthenticatedUser())
            .AddPolicy("jobs-operator", p => p.RequireRole("jobs-operator"));
        builder.Services.AddJobsDashboard(o => o.OperatorPolicy = "jobs-operator"); // without it: read-only

        var app = builder.Build();
        app.MapJobsDashboard("/jobs")                // the page, its JSON API and live events under /jobs/
           .RequireAuthorization("jobs-viewer");     // who may look; without it: local requests only
        #endregion

        var endpoints = ((IEndpointRouteBuilder)app).DataSources.SelectMany(d => d.Endpoints)
            .Where(e => e.DisplayName?.StartsWith("Jobs dashboard", StringComparison.Ordinal) == true).ToArray();
        Assert.True(endpoints.Length >= 12, $"{endpoints.Length} dashboard endpoints");
        Assert.All(endpoints, e => Assert.Contains(e.Metadata.GetOrderedMetadata<IAuthorizeData>(), a => a.Policy == "jobs-viewer"));
        await app.DisposeAsync();

        Assert.Equal(Normalize(Region(File.ReadAllText(SourcePath()), "#region dashboard", "#endregion")), Normalize(ReadmeSnippet()));
    }

    private static string ReadmeSnippet()
    {
        var readme = File.ReadAllText(Path.Combine(RepoRoot(), "README.md"));
        var section = readme[readme.IndexOf("\n## Dashboard", StringComparison.Ordinal)..];
        var code = Region(section, "```csharp", "```");
        // The README shows the using lines too; the region starts at the first statement.
        return string.Join('\n', code.Split('\n').SkipWhile(l => l.StartsWith("using ", StringComparison.Ordinal) || l.Trim().Length == 0));
    }

    private static string Region(string text, string start, string end)
    {
        var from = text.IndexOf(start, StringComparison.Ordinal) + start.Length;
        return text[from..text.IndexOf(end, from, StringComparison.Ordinal)];
    }

    private static string Normalize(string code)
        => string.Join('\n', code.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0));

    private static string RepoRoot()
    {
        // Walk up from the test binaries (CI builds may map source paths, so CallerFilePath is not used).
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Jobs.Sdk.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"Jobs.Sdk.sln not found above {AppContext.BaseDirectory}.");
    }

    private static string SourcePath() => Path.Combine(RepoRoot(), "tests", "Jobs.Sdk.Dashboard.Tests", "ReadmeDashboardSnippetTests.cs");
}
