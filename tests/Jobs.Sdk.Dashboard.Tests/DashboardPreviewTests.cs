using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Jobs.Sdk.Dashboard.Tests;

/// <summary>
/// <c>POST api/jobs/{action}/preview</c>: the dry run behind the bulk actions' confirm dialog. It counts what the action
/// would change, by the action's own conditions, for the same selection the action takes (ids or filter); it is a read.
/// </summary>
public sealed class DashboardPreviewTests
{
    private static async Task<(int Selected, int WouldChange, string[] Sample)> PreviewAsync(
        DashboardTestApp app, string action, Caller caller, object body)
    {
        using var response = await app.PostAsync($"api/jobs/{action}/preview", caller, body, antiforgery: null);
        Assert.True(response.StatusCode == HttpStatusCode.OK,
            $"preview of {action} {JsonSerializer.Serialize(body)}: {response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        var json = await response.Content.ReadFromJsonAsync<JsonElement>();
        return (json.GetProperty("selected").GetInt32(), json.GetProperty("wouldChange").GetInt32(),
            json.GetProperty("sample").EnumerateArray().Select(e => e.GetString()!).ToArray());
    }

    private static async Task<(int Selected, int WouldChange)> CountsAsync(DashboardTestApp app, string action, Caller caller, object body)
    {
        var (selected, wouldChange, _) = await PreviewAsync(app, action, caller, body);
        return (selected, wouldChange);
    }

    [Fact]
    public async Task A_viewer_previews_a_bulk_action_by_filter_or_ids_and_nothing_changes()
    {
        await using var app = await DashboardTestApp.StartAsync(protect: true);
        var later = DateTimeOffset.UtcNow.AddHours(1);
        var ids = await app.Queue.PushManyAsync(
            Enumerable.Range(0, 5).Select(i => new TestEmail($"p{i}@example.com", "preview")), new JobOptions { DelayUntil = later });
        await app.Admin.CancelAsync(JobSelection.Ids(ids.Take(2)));
        var auditBefore = (await app.Admin.GetAuditLogAsync()).Count;
        var viewer = Caller.RemoteViewer;   // no operator role, no antiforgery token: a preview changes nothing

        // Retry changes the 2 cancelled jobs of the 5 matching; its sample names them.
        var retry = await PreviewAsync(app, "retry", viewer, new { filter = new { queue = "emails" } });
        Assert.Equal((5, 2), (retry.Selected, retry.WouldChange));
        Assert.Equal(ids.Take(2).Select(i => i.ToString()).Order(StringComparer.Ordinal), retry.Sample.Order(StringComparer.Ordinal));

        // By ids: cancel changes the 2 waiting jobs of these 3 (the first is cancelled already).
        var cancel = await PreviewAsync(app, "cancel", viewer, new { ids = ids.Skip(1).Take(3).Select(i => i.ToString()) });
        Assert.Equal((3, 2), (cancel.Selected, cancel.WouldChange));

        // Delete changes every matching job; run now the 3 delayed pending ones.
        Assert.Equal((2, 2), await CountsAsync(app, "delete", viewer, new { filter = new { state = "cancelled" } }));
        Assert.Equal((5, 3), await CountsAsync(app, "run-now", viewer, new { filter = new { queue = "emails" } }));

        // Nothing changed: the states and due times are as they were, and no audit entry was written.
        foreach (var (id, i) in ids.Select((id, i) => (id, i)))
        {
            var job = (await app.Admin.GetJobAsync(id))!;
            Assert.Equal(i < 2 ? JobState.Cancelled : JobState.Pending, job.State);
            Assert.True(i < 2 || job.RunAt >= later.AddSeconds(-1), $"job {i} is due at {job.RunAt:O}, not {later:O}");
        }

        Assert.Equal(auditBefore, (await app.Admin.GetAuditLogAsync()).Count);
    }

    [Fact]
    public async Task A_preview_follows_the_read_rules_remote_requests_to_an_unprotected_dashboard_are_refused()
    {
        await using var app = await DashboardTestApp.StartAsync(protect: false);
        var id = await app.Queue.PushAsync(new TestEmail("a@example.com", "hi"), new JobOptions { DelayUntil = DateTimeOffset.UtcNow.AddHours(1) });
        var body = new { ids = new[] { id.ToString() } };
        foreach (var caller in new[] { Caller.RemoteAnonymous, Caller.RemoteOperator })
        {
            using var remote = await app.PostAsync("api/jobs/cancel/preview", caller, body, antiforgery: null);
            Assert.True(remote.StatusCode == HttpStatusCode.Forbidden, $"{caller}: {remote.StatusCode}");
            Assert.Contains("RequireAuthorization", await remote.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        // From this machine it is served, like the other reads: no operator policy or antiforgery token needed.
        Assert.Equal((1, 1), await CountsAsync(app, "cancel", Caller.LocalAnonymous, body));
        Assert.Equal(JobState.Pending, (await app.Admin.GetJobAsync(id))!.State);

        // A dashboard protected by the app's authorization refuses a caller who is not signed in.
        await using var secured = await DashboardTestApp.StartAsync(protect: true);
        using var anonymous = await secured.PostAsync("api/jobs/cancel/preview", Caller.RemoteAnonymous, body, antiforgery: null);
        Assert.True(anonymous.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden, $"anonymous: {anonymous.StatusCode}");
    }

    [Fact]
    public async Task A_preview_rejects_an_unknown_action_and_a_selection_the_action_would_reject()
    {
        await using var app = await DashboardTestApp.StartAsync(protect: true);
        var local = Caller.RemoteViewer;
        using var unknown = await app.PostAsync("api/jobs/explode/preview", local, new { ids = new[] { Guid.NewGuid().ToString() } }, null);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        using var both = await app.PostAsync("api/jobs/retry/preview", local, new { ids = new[] { Guid.NewGuid().ToString() }, filter = new { } }, null);
        Assert.Equal(HttpStatusCode.BadRequest, both.StatusCode);
        Assert.Contains("either ids or filter", await both.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        using var notAnId = await app.PostAsync("api/jobs/retry/preview", local, new { ids = new[] { "nope" } }, null);
        Assert.Equal(HttpStatusCode.BadRequest, notAnId.StatusCode);
    }
}
