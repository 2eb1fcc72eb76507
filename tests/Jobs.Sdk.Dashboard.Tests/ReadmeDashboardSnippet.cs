using Jobs.Sdk.Postgres;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

// The Dashboard snippet of README.md and src/Jobs.Sdk.Dashboard/README.md, compiled with exactly the usings they show
// (ReadmeCodeBlockTests, in tests/Jobs.Sdk.Postgres.Tests, checks both readmes show this region verbatim).
namespace ReadmeSnippets.Dashboard;

internal static class ReadmeDashboardSnippet
{
    /// <summary>The readme's app, built (not run): <see cref="Jobs.Sdk.Dashboard.Tests.ReadmeDashboardSnippetTests"/> inspects its endpoints.</summary>
    internal static WebApplication Build(string[] args)
    {
        #region readme-dashboard
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
        return app;
    }
}
