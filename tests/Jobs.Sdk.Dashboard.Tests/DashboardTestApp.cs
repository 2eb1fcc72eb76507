using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Claims;
using System.Text.Encodings.Web;
using System.Text.Json;
using Jobs.Sdk.Dashboard.Live;
using Jobs.Sdk.Drivers;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Jobs.Sdk.Dashboard.Tests;

/// <summary>Who sends a test request: a user (null: anonymous), their roles, and the client's IP address.</summary>
public sealed record Caller(string? User = null, string? Roles = null, string Remote = "127.0.0.1")
{
    public static Caller LocalAnonymous { get; } = new();
    public static Caller RemoteAnonymous { get; } = new(Remote: "203.0.113.7");
    public static Caller RemoteViewer { get; } = new("victor", "viewer", "203.0.113.8");
    public static Caller RemoteOperator { get; } = new("olga", "viewer,operator", "203.0.113.9");
}

/// <summary>
/// The dashboard in an in-process ASP.NET Core app (TestServer) on the in-memory job store, with a header-driven test
/// authentication scheme, a middleware that sets the client IP, and a counting wrapper around the real admin store.
/// </summary>
public sealed class DashboardTestApp : IAsyncDisposable
{
    private DashboardTestApp(WebApplication app, CountingAdminStore store)
    {
        App = app;
        Store = store;
        Client = app.GetTestClient();
    }

    public WebApplication App { get; }
    public HttpClient Client { get; }
    public CountingAdminStore Store { get; }
    public JobAdmin Admin => App.Services.GetRequiredService<JobAdmin>();
    public JobQueue Queue => App.Services.GetRequiredService<JobQueue>();
    internal DashboardLiveHub Hub => App.Services.GetRequiredService<DashboardLiveHub>();

    /// <param name="protect">Call <c>.RequireAuthorization("jobs-viewer")</c> on the dashboard.</param>
    /// <param name="operatorPolicy">The operator policy (null: read-only dashboard).</param>
    /// <param name="time">A fake clock for the live hub (and the store).</param>
    /// <param name="map">Maps the dashboard at <c>/jobs</c> (default: <c>app.MapJobsDashboard("/jobs")</c>), before <paramref name="protect"/> applies.</param>
    /// <param name="services">More service registrations (authorization options, policy provider, ...).</param>
    /// <param name="jobs">Another job store (PostgreSQL) instead of the in-memory one, with the admin store to count.</param>
    public static async Task<DashboardTestApp> StartAsync(
        bool protect, string? operatorPolicy = "jobs-operator", TimeProvider? time = null,
        Func<WebApplication, RouteGroupBuilder>? map = null, Action<IServiceCollection>? services = null,
        (Action<JobsBuilder> Configure, Func<IServiceProvider, IJobAdminStore> AdminStore)? jobs = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseTestServer();
        builder.Logging.ClearProviders();
        if (time is not null)
        {
            builder.Services.AddSingleton(time);
        }

        CountingAdminStore? counting = null;
        if (jobs is { } other)
        {
            builder.Services.AddJobs(other.Configure);
            builder.Services.AddSingleton<IJobAdminStore>(sp => counting = new CountingAdminStore(other.AdminStore(sp)));
        }
        else
        {
            builder.Services.AddSingleton<IJobAdminStore>(sp => counting = new CountingAdminStore((IJobAdminStore)sp.GetRequiredService<IJobDriver>()));
            builder.Services.AddJobs(jobs => jobs
                .UseInMemory(o =>
                {
                    o.QueueName = "emails";
                    o.Retention = new RetentionPolicy { CompletedJobs = Retain.Yes, CancelledJobs = Retain.Yes };
                })
                .AddJob<TestEmail, TestEmailHandler>());
        }

        builder.Services.AddAuthentication(TestAuthHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, TestAuthHandler>(TestAuthHandler.SchemeName, null);
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy("jobs-viewer", p => p.RequireAuthenticatedUser())
            .AddPolicy("jobs-operator", p => p.RequireRole("operator"));
        builder.Services.AddJobsDashboard(o =>
        {
            o.OperatorPolicy = operatorPolicy;
            o.LiveInterval = TimeSpan.FromSeconds(2);
        });
        services?.Invoke(builder.Services);

        var app = builder.Build();
        app.Use((context, next) =>
        {
            context.Connection.RemoteIpAddress = IPAddress.Parse(context.Request.Headers["X-Test-Remote"].FirstOrDefault() ?? "127.0.0.1");
            return next(context);
        });
        app.UseRouting();
        app.UseAuthentication();
        app.UseAuthorization();
        var dashboard = map is null ? app.MapJobsDashboard("/jobs") : map(app);
        if (protect)
        {
            dashboard.RequireAuthorization("jobs-viewer");
        }

        await app.StartAsync();
        _ = app.Services.GetRequiredService<JobAdmin>();
        return new DashboardTestApp(app, counting!);
    }

    public HttpRequestMessage Request(HttpMethod method, string path, Caller caller, object? body = null, Antiforgery? antiforgery = null)
    {
        var request = new HttpRequestMessage(method, "/jobs/" + path.TrimStart('/'));
        request.Headers.Add("X-Test-Remote", caller.Remote);
        if (caller.User is not null)
        {
            request.Headers.Add("X-Test-User", caller.User);
            request.Headers.Add("X-Test-Roles", caller.Roles ?? "");
        }

        if (body is not null)
        {
            request.Content = new StringContent(JsonSerializer.Serialize(body), new MediaTypeHeaderValue("application/json"));
        }

        if (antiforgery is not null)
        {
            request.Headers.Add("Cookie", antiforgery.Cookie);
            request.Headers.Add(antiforgery.Header, antiforgery.Token);
        }

        return request;
    }

    public Task<HttpResponseMessage> GetAsync(string path, Caller caller) => Client.SendAsync(Request(HttpMethod.Get, path, caller));

    public Task<HttpResponseMessage> PostAsync(string path, Caller caller, object body, Antiforgery? antiforgery)
        => Client.SendAsync(Request(HttpMethod.Post, path, caller, body, antiforgery));

    /// <summary>Reads <c>api/session</c> as <paramref name="caller"/>: the session and the antiforgery cookie + token to act with.</summary>
    public async Task<(JsonElement Session, Antiforgery Antiforgery)> SessionAsync(Caller caller)
    {
        using var response = await GetAsync("api/session", caller);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var session = await response.Content.ReadFromJsonAsync<JsonElement>();
        var cookie = string.Join("; ", response.Headers.GetValues("Set-Cookie").Select(c => c.Split(';')[0]));
        return (session, new Antiforgery(cookie, session.GetProperty("antiforgeryHeader").GetString()!, session.GetProperty("antiforgeryToken").GetString()!));
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
    }
}

public sealed record Antiforgery(string Cookie, string Header, string Token);

/// <summary>Authenticates from <c>X-Test-User</c> / <c>X-Test-Roles</c> headers; no header, no user.</summary>
public sealed class TestAuthHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "Test";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var user = Request.Headers["X-Test-User"].FirstOrDefault();
        if (string.IsNullOrEmpty(user))
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        var claims = new List<Claim> { new(ClaimTypes.Name, user) };
        claims.AddRange((Request.Headers["X-Test-Roles"].FirstOrDefault() ?? "")
            .Split(',', StringSplitOptions.RemoveEmptyEntries).Select(r => new Claim(ClaimTypes.Role, r)));
        var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName));
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName)));
    }
}
