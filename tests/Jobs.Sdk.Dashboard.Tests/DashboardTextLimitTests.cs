using System.Net;

namespace Jobs.Sdk.Dashboard.Tests;

/// <summary>
/// A reason over JobAdmin's cap (stored, then sent with every live snapshot and listing) is a bad request: HTTP 400 with
/// the admin API's message (the field, its length, the cap), and nothing changed or audited.
/// </summary>
public sealed class DashboardTextLimitTests
{
    [Fact]
    public async Task A_one_megabyte_reason_is_answered_400_naming_the_field_and_the_cap_and_changes_nothing()
    {
        await using var app = await DashboardTestApp.StartAsync(protect: true);
        var job = await app.Queue.PushAsync(new TestEmail("a@example.com", "one"), new JobOptions { DelayUntil = DateTimeOffset.UtcNow.AddHours(1) });
        var (_, token) = await app.SessionAsync(Caller.RemoteOperator);
        var reason = new string('r', 1 << 20);

        foreach (var (path, body) in new (string, object)[]
        {
            ($"api/queues/{app.Queue.QueueName}/pause", new { reason }),
            ("api/jobs/cancel", new { ids = new[] { job.ToString() }, reason }),
        })
        {
            using var response = await app.PostAsync(path, Caller.RemoteOperator, body, token);
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{path}: {response.StatusCode} {text}");
            Assert.Contains($"{1 << 20} characters long", text);
            Assert.Contains("at most 1000", text);
        }

        Assert.Equal(JobState.Pending, (await app.Admin.GetJobAsync(job))!.State);
        Assert.DoesNotContain(await app.Admin.GetQueuesAsync(), q => q.IsPaused);
        Assert.Empty(await app.Admin.GetAuditLogAsync());
    }

    [Fact]
    public async Task An_operator_whose_sign_in_name_is_over_the_actor_cap_can_still_act_and_is_audited_by_its_first_200_characters()
    {
        // The actor is the sign-in identity's name, which the operator cannot shorten: refusing it would refuse every action.
        await using var app = await DashboardTestApp.StartAsync(protect: true);
        var job = await app.Queue.PushAsync(new TestEmail("a@example.com", "one"), new JobOptions { DelayUntil = DateTimeOffset.UtcNow.AddHours(1) });
        var name = "olga-" + new string('x', 300);
        var caller = new Caller(name, "viewer,operator", "203.0.113.9");
        var (_, token) = await app.SessionAsync(caller);

        using var response = await app.PostAsync("api/jobs/cancel", caller, new { ids = new[] { job.ToString() }, reason = "stuck" }, token);
        var text = await response.Content.ReadAsStringAsync();

        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{response.StatusCode} {text}");
        Assert.Equal(JobState.Cancelled, (await app.Admin.GetJobAsync(job))!.State);
        var entry = Assert.Single(await app.Admin.GetAuditLogAsync());
        Assert.Equal(name[..AuditInfo.MaxActorLength], entry.Actor);
    }
}
