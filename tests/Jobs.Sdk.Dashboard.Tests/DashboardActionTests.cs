using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Jobs.Sdk.Drivers;

namespace Jobs.Sdk.Dashboard.Tests;

/// <summary>An operator acts through the API: every action changes the store and is audited under the user's name.</summary>
public sealed class DashboardActionTests
{
    private static async Task<int> ChangedAsync(HttpResponseMessage response)
    {
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{response.RequestMessage!.RequestUri}: {response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("changed").GetInt32();
    }

    [Fact]
    public async Task Operator_job_actions_change_the_jobs_and_are_written_to_the_audit_log_with_the_user_name()
    {
        await using var app = await DashboardTestApp.StartAsync(protect: true);
        var a = await app.Queue.PushAsync(new TestEmail("a@example.com", "one"));
        var b = await app.Queue.PushAsync(new TestEmail("b@example.com", "two"), new JobOptions { DelayUntil = DateTimeOffset.UtcNow.AddHours(1) });
        var (_, token) = await app.SessionAsync(Caller.RemoteOperator);
        var op = Caller.RemoteOperator;

        Assert.Equal(1, await ChangedAsync(await app.PostAsync("api/jobs/priority", op, new { ids = new[] { a.ToString() }, priority = "highest", reason = "vip" }, token)));
        Assert.Equal(JobPriority.Highest, (await app.Admin.GetJobAsync(a))!.Priority);

        Assert.Equal(1, await ChangedAsync(await app.PostAsync("api/jobs/run-now", op, new { ids = new[] { b.ToString() } }, token)));
        Assert.True((await app.Admin.GetJobAsync(b))!.RunAt <= DateTimeOffset.UtcNow);

        Assert.Equal(2, await ChangedAsync(await app.PostAsync("api/jobs/cancel", op, new { ids = new[] { a.ToString(), b.ToString() }, reason = "bad batch" }, token)));
        Assert.Equal(JobState.Cancelled, (await app.Admin.GetJobAsync(a))!.State);

        Assert.Equal(1, await ChangedAsync(await app.PostAsync("api/jobs/retry", op, new { ids = new[] { a.ToString() }, reason = "fixed" }, token)));
        Assert.Equal(JobState.Pending, (await app.Admin.GetJobAsync(a))!.State);

        // By filter ("every matching job"), as the list's "select all matching" would.
        Assert.Equal(1, await ChangedAsync(await app.PostAsync("api/jobs/delete", op, new { filter = new { state = "cancelled" } }, token)));
        Assert.Null(await app.Admin.GetJobAsync(b));

        var audit = await app.Admin.GetAuditLogAsync();
        Assert.Equal(["delete", "retry", "cancel", "run-now", "set-priority"], audit.Select(e => e.Action.Split(':')[0]).ToArray());
        Assert.All(audit, e => Assert.Equal("olga", e.Actor));
        Assert.Equal("bad batch", audit.Single(e => e.Action == "cancel").Reason);
        Assert.Equal(2, audit.Single(e => e.Action == "cancel").RowsChanged);

        // The audit endpoint shows the same rows.
        using var auditResponse = await app.GetAsync("api/audit", Caller.RemoteViewer);
        var rows = await auditResponse.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(5, rows.GetArrayLength());
        Assert.Equal("olga", rows[0].GetProperty("actor").GetString());
    }

    /// <summary>
    /// A queue named "." or ".." cannot be a path segment (a relative step: browsers and servers remove it), so the page
    /// names it in the query, on the placeholder segment <c>_</c>; every other name keeps its path. The placeholder without
    /// the query is queue "_", and a query that names another queue, or comes with another segment, changes nothing.
    /// </summary>
    [Fact]
    public async Task A_queue_named_dot_or_dot_dot_is_named_in_the_query_and_no_other_request_reaches_it()
    {
        await using var app = await DashboardTestApp.StartAsync(protect: true);
        foreach (var name in new[] { ".", "..", "_", "emails" })
        {
            await app.Queue.PushAsync(new TestEmail("a@example.com", "one"), new JobOptions { Queue = name });
        }

        var (_, token) = await app.SessionAsync(Caller.RemoteOperator);
        var op = Caller.RemoteOperator;
        Assert.Equal(1, await ChangedAsync(await app.PostAsync("api/queues/_/pause?name=..", op, new { reason = "dots" }, token)));
        Assert.Equal([".."], await PausedAsync(app));
        Assert.Equal(1, await ChangedAsync(await app.PostAsync("api/queues/_/pause", op, new { reason = "underscore" }, token)));
        Assert.Equal(["..", "_"], await PausedAsync(app));
        Assert.Equal(1, await ChangedAsync(await app.PostAsync("api/queues/_/pause?name=.", op, new { reason = "dot" }, token)));
        Assert.Equal([".", "..", "_"], await PausedAsync(app));

        foreach (var path in new[] { "api/queues/emails/pause?name=.", "api/queues/_/pause?name=emails", "api/queues/_/resume?name=.&name=.." })
        {
            using var refused = await app.PostAsync(path, op, new { reason = "no" }, token);
            Assert.True(refused.StatusCode == HttpStatusCode.BadRequest, $"{path}: {refused.StatusCode} {await refused.Content.ReadAsStringAsync()}");
        }

        Assert.Equal([".", "..", "_"], await PausedAsync(app));
        Assert.Equal(1, await ChangedAsync(await app.PostAsync("api/queues/_/resume?name=.", op, new { reason = "back" }, token)));
        Assert.Equal(["..", "_"], await PausedAsync(app));
        var audit = await app.Admin.GetAuditLogAsync();
        Assert.Equal([".", ".", "..", "_"], audit.Select(e => e.Target).Order(StringComparer.Ordinal));
    }

    /// <summary>Schedule entry keys are free text too: an entry keyed "." or ".." is named in the query (<c>key</c>) the same way.</summary>
    [Fact]
    public async Task A_schedule_entry_keyed_dot_is_named_in_the_query_and_the_placeholder_alone_is_entry_underscore()
    {
        await using var app = await DashboardTestApp.StartAsync(protect: true);
        await app.Store.PublishSchedulesAsync([.. new[] { ".", "_" }.Select(key => new ScheduleRegistration
        {
            QueueName = "emails", EntryKey = key, JobName = "test-email", Description = "daily at 03:00 UTC",
            Payload = Encoding.UTF8.GetBytes("""{"to":"team@example.com","subject":"digest"}"""), NextFireAt = DateTimeOffset.UtcNow.AddHours(3),
        })], CancellationToken.None);
        var (_, token) = await app.SessionAsync(Caller.RemoteOperator);
        var op = Caller.RemoteOperator;
        Assert.Equal(1, await ChangedAsync(await app.PostAsync("api/schedules/_/pause?key=.", op, new { reason = "dot" }, token)));
        Assert.Equal(1, await ChangedAsync(await app.PostAsync("api/schedules/_/pause", op, new { reason = "underscore" }, token)));
        using var refused = await app.PostAsync("api/schedules/digest/pause?key=..", op, new { reason = "no" }, token);
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);

        var audit = await app.Admin.GetAuditLogAsync();
        Assert.Equal([(". (queue emails)", "dot"), ("_ (queue emails)", "underscore")], audit.Select(e => (e.Target, e.Reason)).OrderBy(e => e.Target, StringComparer.Ordinal));
    }

    private static async Task<string[]> PausedAsync(DashboardTestApp app)
        => (await app.Admin.GetQueuesAsync()).Where(q => q.IsPaused).Select(q => q.Name).Order(StringComparer.Ordinal).ToArray();

    [Fact]
    public async Task Operator_pauses_and_resumes_a_queue_with_a_reason()
    {
        await using var app = await DashboardTestApp.StartAsync(protect: true);
        await app.Queue.PushAsync(new TestEmail("a@example.com", "one"));
        var (_, token) = await app.SessionAsync(Caller.RemoteOperator);
        Assert.Equal(1, await ChangedAsync(await app.PostAsync("api/queues/emails/pause", Caller.RemoteOperator, new { reason = "provider outage" }, token)));
        var queue = (await app.Admin.GetQueuesAsync()).Single(q => q.Name == "emails");
        Assert.True(queue.IsPaused);
        Assert.Equal("provider outage", queue.PausedReason);

        using var list = await app.GetAsync("api/queues", Caller.RemoteViewer);
        var queues = (await list.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("items");
        Assert.True(queues[0].GetProperty("isPaused").GetBoolean());
        Assert.Equal("provider outage", queues[0].GetProperty("pausedReason").GetString());

        Assert.Equal(1, await ChangedAsync(await app.PostAsync("api/queues/emails/resume", Caller.RemoteOperator, new { reason = "back" }, token)));
        Assert.False((await app.Admin.GetQueuesAsync()).Single(q => q.Name == "emails").IsPaused);
        var audit = await app.Admin.GetAuditLogAsync();
        Assert.Equal(2, audit.Count);
        Assert.All(audit, e => Assert.Equal("olga", e.Actor));
        Assert.Contains(audit, e => e.Reason == "provider outage" && e.Target.Contains("emails", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Operator_triggers_pauses_and_resumes_a_schedule_entry()
    {
        await using var app = await DashboardTestApp.StartAsync(protect: true);
        await app.Store.PublishSchedulesAsync([new ScheduleRegistration
        {
            QueueName = "emails", EntryKey = "digest", JobName = "test-email", Description = "daily at 03:00 UTC",
            Payload = Encoding.UTF8.GetBytes("""{"to":"team@example.com","subject":"digest"}"""),
            NextFireAt = DateTimeOffset.UtcNow.AddHours(3),
        }], CancellationToken.None);
        var (_, token) = await app.SessionAsync(Caller.RemoteOperator);

        using var schedules = await app.GetAsync("api/schedules", Caller.RemoteViewer);
        var list = (await schedules.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("items");
        Assert.Equal("digest", list[0].GetProperty("entryKey").GetString());
        Assert.Equal("daily at 03:00 UTC", list[0].GetProperty("schedule").GetString());

        Assert.Equal(1, await ChangedAsync(await app.PostAsync("api/schedules/digest/trigger", Caller.RemoteOperator, new { reason = "rerun" }, token)));
        var pushed = await app.Admin.ListJobsAsync(new JobQuery { Names = ["test-email"] });
        Assert.Single(pushed.Items);
        Assert.Equal(1, await ChangedAsync(await app.PostAsync("api/schedules/digest/pause", Caller.RemoteOperator, new { reason = "" }, token)));
        Assert.True((await app.Admin.GetSchedulesAsync()).Single().IsPaused);
        Assert.Equal(1, await ChangedAsync(await app.PostAsync("api/schedules/digest/resume", Caller.RemoteOperator, new { }, token)));
        Assert.False((await app.Admin.GetSchedulesAsync()).Single().IsPaused);
        Assert.Equal(3, (await app.Admin.GetAuditLogAsync()).Count(e => e.Actor == "olga"));
    }

    [Fact]
    public async Task Bad_requests_get_400_with_a_message()
    {
        await using var app = await DashboardTestApp.StartAsync(protect: false);
        var local = new Caller("olga", "operator");
        var (_, token) = await app.SessionAsync(local);
        using var noSelection = await app.PostAsync("api/jobs/retry", local, new { reason = "x" }, token);
        Assert.Equal(HttpStatusCode.BadRequest, noSelection.StatusCode);
        using var badId = await app.PostAsync("api/jobs/retry", local, new { ids = new[] { "nope" } }, token);
        Assert.Equal(HttpStatusCode.BadRequest, badId.StatusCode);
        using var badPriority = await app.PostAsync("api/jobs/priority", local, new { ids = new[] { JobId.New().ToString() }, priority = "urgent" }, token);
        Assert.Equal(HttpStatusCode.BadRequest, badPriority.StatusCode);
        using var unknownAction = await app.PostAsync("api/jobs/explode", local, new { ids = new[] { JobId.New().ToString() } }, token);
        Assert.Equal(HttpStatusCode.NotFound, unknownAction.StatusCode);
        using var badState = await app.GetAsync("api/jobs?state=exploded", local);
        Assert.Equal(HttpStatusCode.BadRequest, badState.StatusCode);
        using var badCursor = await app.GetAsync("api/jobs?cursor=zzz", local);
        Assert.Equal(HttpStatusCode.BadRequest, badCursor.StatusCode);
        foreach (var list in new[] { "queues", "schedules" })
        {
            // A cursor no page of the list gave (mistyped, cut short, or another list's): what to pass instead, not a 500.
            using var badListCursor = await app.GetAsync($"api/{list}?cursor=not-a-cursor!", local);
            var body = await badListCursor.Content.ReadAsStringAsync();
            Assert.True(badListCursor.StatusCode == HttpStatusCode.BadRequest, $"api/{list}: {badListCursor.StatusCode} {body}");
            Assert.Contains("or none for the first page", body, StringComparison.Ordinal);
        }

        using var missing = await app.GetAsync($"api/jobs/{JobId.New()}", local);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }
}
