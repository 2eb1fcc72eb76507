using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Routing;
using ReadmeSnippets.Dashboard;

namespace Jobs.Sdk.Dashboard.Tests;

/// <summary>
/// README's Dashboard snippet (compiled in <see cref="ReadmeDashboardSnippet"/>, whose region ReadmeCodeBlockTests matches
/// with both readmes): it protects every endpoint.
/// </summary>
public sealed class ReadmeDashboardSnippetTests
{
    [Fact]
    public async Task Readme_dashboard_snippet_puts_the_viewer_policy_on_every_endpoint()
    {
        string[] args = ["--ConnectionStrings:Jobs=Host=127.0.0.1;Username=postgres"];

        var app = ReadmeDashboardSnippet.Build(args);

        var endpoints = ((IEndpointRouteBuilder)app).DataSources.SelectMany(d => d.Endpoints)
            .Where(e => e.DisplayName?.StartsWith("Jobs dashboard", StringComparison.Ordinal) == true).ToArray();
        Assert.True(endpoints.Length >= 12, $"{endpoints.Length} dashboard endpoints");
        Assert.All(endpoints, e => Assert.Contains(e.Metadata.GetOrderedMetadata<IAuthorizeData>(), a => a.Policy == "jobs-viewer"));
        await app.DisposeAsync();
    }
}
