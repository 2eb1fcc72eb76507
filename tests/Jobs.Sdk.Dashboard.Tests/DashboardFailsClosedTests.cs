using System.Net;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Jobs.Sdk.Dashboard.Tests;

/// <summary>
/// Authorization that looks applied but that ASP.NET Core does not enforce leaves the dashboard in its local-only default:
/// <c>AllowAnonymous</c> anywhere on its endpoints (ASP.NET Core then skips every policy), or a fallback policy set in the
/// options that the app's policy provider does not use.
/// </summary>
public sealed class DashboardFailsClosedTests
{
    public static TheoryData<string> AllowAnonymousMappings => new()
    {
        "RequireAuthorization then AllowAnonymous on the dashboard",
        "AllowAnonymous on an enclosing group, RequireAuthorization on the dashboard",
        "RequireAuthorization on the dashboard, AllowAnonymous on each endpoint",
        "a fallback policy and AllowAnonymous on the dashboard",
    };

    [Theory]
    [MemberData(nameof(AllowAnonymousMappings))]
    public async Task AllowAnonymous_next_to_authorization_keeps_remote_clients_out_of_every_endpoint(string mapping)
    {
        await using var app = await DashboardTestApp.StartAsync(protect: false, map: Map(mapping), services: Services(mapping));
        await AssertLocalOnlyAsync(app, "AllowAnonymous");
    }

    [Fact]
    public async Task A_fallback_policy_the_policy_provider_does_not_use_does_not_count_as_protection()
    {
        await using var app = await DashboardTestApp.StartAsync(protect: false, services: s =>
        {
            s.Configure<AuthorizationOptions>(o => o.FallbackPolicy = new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build());
            s.AddSingleton<IAuthorizationPolicyProvider, NoFallbackPolicyProvider>();
        });
        await AssertLocalOnlyAsync(app, "RequireAuthorization");
    }

    /// <summary>
    /// Remote clients, signed in or not, get 403 with <paramref name="hint"/> from every endpoint (actions included, which
    /// change nothing); local requests are still served and the session says local-only.
    /// </summary>
    private static async Task AssertLocalOnlyAsync(DashboardTestApp app, string hint)
    {
        var id = await app.Queue.PushAsync(new TestEmail("a@example.com", "hi"));
        foreach (var path in DashboardAccessTests.ReadEndpoints.Append($"api/jobs/{id}").Append("api/events"))
        {
            foreach (var caller in new[] { Caller.RemoteAnonymous, Caller.RemoteViewer })
            {
                using var request = app.Request(HttpMethod.Get, path, caller);
                using var response = await app.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
                Assert.True(response.StatusCode == HttpStatusCode.Forbidden, $"{path} ({caller.Remote}, {caller.User}): {response.StatusCode}");
                Assert.Contains(hint, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            }
        }

        var (session, antiforgery) = await app.SessionAsync(Caller.LocalAnonymous);
        Assert.True(session.GetProperty("localOnly").GetBoolean());
        foreach (var (path, body) in DashboardAccessTests.ActionCalls(id))
        {
            using var response = await app.PostAsync(path, Caller.RemoteOperator, body, antiforgery);
            Assert.True(response.StatusCode == HttpStatusCode.Forbidden, $"POST {path}: {response.StatusCode}");
        }

        Assert.Equal(JobState.Pending, (await app.Admin.GetJobAsync(id))!.State);
        Assert.Empty(await app.Admin.GetAuditLogAsync());
        using var local = await app.GetAsync("api/jobs", Caller.LocalAnonymous);
        Assert.Equal(HttpStatusCode.OK, local.StatusCode);
    }

    private static Func<WebApplication, RouteGroupBuilder> Map(string mapping) => mapping switch
    {
        "RequireAuthorization then AllowAnonymous on the dashboard"
            => a => a.MapJobsDashboard("/jobs").RequireAuthorization("jobs-viewer").AllowAnonymous(),
        "AllowAnonymous on an enclosing group, RequireAuthorization on the dashboard"
            => a => a.MapGroup("").AllowAnonymous().MapJobsDashboard("/jobs").RequireAuthorization("jobs-viewer"),
        "RequireAuthorization on the dashboard, AllowAnonymous on each endpoint"
            => a =>
            {
                var dashboard = a.MapJobsDashboard("/jobs").RequireAuthorization("jobs-viewer");
                ((IEndpointConventionBuilder)dashboard).Add(endpoint => endpoint.Metadata.Add(new AllowAnonymousAttribute()));
                return dashboard;
            },
        "a fallback policy and AllowAnonymous on the dashboard" => a => a.MapJobsDashboard("/jobs").AllowAnonymous(),
        _ => throw new ArgumentOutOfRangeException(nameof(mapping), mapping, null),
    };

    private static Action<IServiceCollection>? Services(string mapping) => mapping.StartsWith("a fallback policy", StringComparison.Ordinal)
        ? s => s.Configure<AuthorizationOptions>(o => o.FallbackPolicy = new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build())
        : null;

    /// <summary>An app's policy provider with no fallback policy, whatever <see cref="AuthorizationOptions.FallbackPolicy"/> says.</summary>
    private sealed class NoFallbackPolicyProvider(IOptions<AuthorizationOptions> options) : IAuthorizationPolicyProvider
    {
        private readonly DefaultAuthorizationPolicyProvider inner = new(options);

        public Task<AuthorizationPolicy?> GetFallbackPolicyAsync() => Task.FromResult<AuthorizationPolicy?>(null);

        public Task<AuthorizationPolicy> GetDefaultPolicyAsync() => inner.GetDefaultPolicyAsync();

        public Task<AuthorizationPolicy?> GetPolicyAsync(string policyName) => inner.GetPolicyAsync(policyName);
    }
}
