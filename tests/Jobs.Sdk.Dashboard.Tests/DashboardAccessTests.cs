using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Jobs.Sdk.Dashboard.Tests;

/// <summary>Who may read and who may act: local-only default, app authorization, operator policy, antiforgery.</summary>
public sealed class DashboardAccessTests
{
    /// <summary>Every read endpoint of the dashboard (relative to its mount path).</summary>
    public static readonly string[] ReadEndpoints =
        ["", "assets/app.js", "api/session", "api/jobs", "api/queues", "api/schedules", "api/workers", "api/audit"];

    [Fact]
    public async Task Without_RequireAuthorization_remote_requests_get_403_on_every_endpoint_and_local_ones_are_served()
    {
        await using var app = await DashboardTestApp.StartAsync(protect: false);
        var id = await app.Queue.PushAsync(new TestEmail("a@example.com", "hi"));
        foreach (var path in ReadEndpoints.Append($"api/jobs/{id}").Append("api/events"))
        {
            using var remote = await app.GetAsync(path, Caller.RemoteAnonymous);
            Assert.True(remote.StatusCode == HttpStatusCode.Forbidden, $"{path}: {remote.StatusCode}");
            Assert.Contains("RequireAuthorization", await remote.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            // Even a signed-in remote user: without authorization on the dashboard, only this machine is trusted.
            using var remoteUser = await app.GetAsync(path, Caller.RemoteOperator);
            Assert.True(remoteUser.StatusCode == HttpStatusCode.Forbidden, $"{path} (remote user): {remoteUser.StatusCode}");
        }

        foreach (var path in ReadEndpoints.Append($"api/jobs/{id}"))
        {
            using var local = await app.GetAsync(path, Caller.LocalAnonymous);
            Assert.True(local.StatusCode == HttpStatusCode.OK, $"{path}: {local.StatusCode}");
        }

        var (session, _) = await app.SessionAsync(Caller.LocalAnonymous);
        Assert.True(session.GetProperty("localOnly").GetBoolean());
    }

    [Theory]
    [InlineData("Host", "attacker.example")]          // DNS rebinding: a web page whose name now resolves to 127.0.0.1
    [InlineData("Host", "attacker.example:5000")]
    [InlineData("X-Forwarded-For", "203.0.113.7")]    // a reverse proxy on this machine relaying a remote client
    [InlineData("Forwarded", "for=203.0.113.7")]
    public async Task Local_only_does_not_trust_a_loopback_connection_made_for_someone_else(string header, string value)
    {
        await using var app = await DashboardTestApp.StartAsync(protect: false);
        var id = await app.Queue.PushAsync(new TestEmail("a@example.com", "hi"));
        foreach (var path in ReadEndpoints.Append($"api/jobs/{id}").Append("api/events"))
        {
            using var request = app.Request(HttpMethod.Get, path, Caller.LocalAnonymous);
            if (header == "Host")
            {
                request.Headers.Host = value;
            }
            else
            {
                request.Headers.Add(header, value);
            }

            using var response = await app.Client.SendAsync(request);
            Assert.True(response.StatusCode == HttpStatusCode.Forbidden, $"{path} ({header}: {value}): {response.StatusCode}");
        }

        // The page's own names for this machine stay local (a browser here, or an SSH tunnel to it).
        foreach (var host in new[] { "localhost:5000", "127.0.0.1:8080", "[::1]:5000", "jobs.localhost" })
        {
            using var request = app.Request(HttpMethod.Get, "api/jobs", Caller.LocalAnonymous);
            request.Headers.Host = host;
            using var response = await app.Client.SendAsync(request);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"Host {host}: {response.StatusCode}");
        }
    }

    [Fact]
    public async Task Local_only_POSTs_from_a_remote_client_are_refused_before_anything_else()
    {
        await using var app = await DashboardTestApp.StartAsync(protect: false);
        var id = await app.Queue.PushAsync(new TestEmail("a@example.com", "hi"));
        var (_, antiforgery) = await app.SessionAsync(Caller.LocalAnonymous);
        using var response = await app.PostAsync("api/jobs/cancel", Caller.RemoteOperator, new { ids = new[] { id.ToString() } }, antiforgery);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal(JobState.Pending, (await app.Admin.GetJobAsync(id))!.State);
    }

    [Fact]
    public async Task With_RequireAuthorization_anonymous_remote_gets_401_and_a_viewer_reads_every_endpoint()
    {
        await using var app = await DashboardTestApp.StartAsync(protect: true);
        var id = await app.Queue.PushAsync(new TestEmail("a@example.com", "hi"));
        foreach (var path in ReadEndpoints.Append($"api/jobs/{id}").Append("api/events"))
        {
            using var anonymous = await app.GetAsync(path, Caller.RemoteAnonymous);
            Assert.True(anonymous.StatusCode == HttpStatusCode.Unauthorized, $"{path}: {anonymous.StatusCode}");
            // The local-only default is not a back door once the app has authorization: local anonymous is refused too.
            using var localAnonymous = await app.GetAsync(path, Caller.LocalAnonymous);
            Assert.True(localAnonymous.StatusCode == HttpStatusCode.Unauthorized, $"{path} (local): {localAnonymous.StatusCode}");
        }

        foreach (var path in ReadEndpoints.Append($"api/jobs/{id}"))
        {
            using var viewer = await app.GetAsync(path, Caller.RemoteViewer);
            Assert.True(viewer.StatusCode == HttpStatusCode.OK, $"{path}: {viewer.StatusCode}");
        }

        var (session, _) = await app.SessionAsync(Caller.RemoteViewer);
        Assert.False(session.GetProperty("localOnly").GetBoolean());
        Assert.False(session.GetProperty("canAct").GetBoolean());
        Assert.Equal("victor", session.GetProperty("user").GetString());
        var (operatorSession, _) = await app.SessionAsync(Caller.RemoteOperator);
        Assert.True(operatorSession.GetProperty("canAct").GetBoolean());
    }

    [Fact]
    public async Task A_viewer_can_read_but_not_act_even_with_a_valid_antiforgery_token()
    {
        await using var app = await DashboardTestApp.StartAsync(protect: true);
        var id = await app.Queue.PushAsync(new TestEmail("a@example.com", "hi"));
        var (_, antiforgery) = await app.SessionAsync(Caller.RemoteViewer);
        foreach (var (path, body) in ActionCalls(id))
        {
            using var response = await app.PostAsync(path, Caller.RemoteViewer, body, antiforgery);
            Assert.True(response.StatusCode == HttpStatusCode.Forbidden, $"{path}: {response.StatusCode}");
            Assert.Contains("jobs-operator", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        Assert.Equal(JobState.Pending, (await app.Admin.GetJobAsync(id))!.State);
        Assert.Empty(await app.Admin.GetAuditLogAsync());
    }

    [Fact]
    public async Task An_operator_POST_without_an_antiforgery_token_gets_400_and_changes_nothing()
    {
        await using var app = await DashboardTestApp.StartAsync(protect: true);
        var id = await app.Queue.PushAsync(new TestEmail("a@example.com", "hi"));
        foreach (var (path, body) in ActionCalls(id))
        {
            using var response = await app.PostAsync(path, Caller.RemoteOperator, body, antiforgery: null);
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{path}: {response.StatusCode}");
            Assert.Contains("antiforgery", await response.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
        }

        // Another user's token does not work either.
        var (_, viewerToken) = await app.SessionAsync(Caller.RemoteViewer);
        using var stolen = await app.PostAsync("api/jobs/cancel", Caller.RemoteOperator, new { ids = new[] { id.ToString() } }, viewerToken);
        Assert.Equal(HttpStatusCode.BadRequest, stolen.StatusCode);
        Assert.Equal(JobState.Pending, (await app.Admin.GetJobAsync(id))!.State);
        Assert.Empty(await app.Admin.GetAuditLogAsync());
    }

    [Fact]
    public async Task Without_an_operator_policy_the_dashboard_is_read_only_for_everyone()
    {
        await using var app = await DashboardTestApp.StartAsync(protect: false, operatorPolicy: null);
        var id = await app.Queue.PushAsync(new TestEmail("a@example.com", "hi"));
        var (session, antiforgery) = await app.SessionAsync(Caller.LocalAnonymous);
        Assert.False(session.GetProperty("canAct").GetBoolean());
        Assert.Contains("read-only", session.GetProperty("readOnlyReason").GetString(), StringComparison.Ordinal);
        using var response = await app.PostAsync("api/jobs/cancel", Caller.LocalAnonymous, new { ids = new[] { id.ToString() } }, antiforgery);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        var error = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains("OperatorPolicy", error.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal(JobState.Pending, (await app.Admin.GetJobAsync(id))!.State);
    }

    [Fact]
    public async Task Mutating_endpoints_answer_only_POST()
    {
        await using var app = await DashboardTestApp.StartAsync(protect: false);
        foreach (var path in new[] { "api/jobs/retry", "api/queues/emails/pause", "api/schedules/x/trigger" })
        {
            using var get = await app.GetAsync(path, Caller.LocalAnonymous);
            Assert.True(get.StatusCode is HttpStatusCode.MethodNotAllowed or HttpStatusCode.NotFound or HttpStatusCode.BadRequest,
                $"GET {path}: {get.StatusCode}");
            Assert.NotEqual(HttpStatusCode.OK, get.StatusCode);
        }
    }

    internal static IEnumerable<(string Path, object Body)> ActionCalls(JobId id)
    {
        var ids = new[] { id.ToString() };
        yield return ("api/jobs/retry", new { ids });
        yield return ("api/jobs/cancel", new { ids });
        yield return ("api/jobs/delete", new { ids });
        yield return ("api/jobs/run-now", new { ids });
        yield return ("api/jobs/priority", new { ids, priority = "highest" });
        yield return ("api/queues/emails/pause", new { reason = "deploy" });
        yield return ("api/queues/emails/resume", new { reason = "done" });
        yield return ("api/schedules/digest/trigger", new { reason = "now" });
        yield return ("api/schedules/digest/pause", new { reason = "quiet" });
        yield return ("api/schedules/digest/resume", new { reason = "back" });
    }
}
