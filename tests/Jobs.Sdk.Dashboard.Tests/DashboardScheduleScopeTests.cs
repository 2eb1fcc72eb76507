using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Jobs.Sdk.Drivers;

namespace Jobs.Sdk.Dashboard.Tests;

/// <summary>
/// Two applications of one store schedule the same cleanup for their own queues: both entries have the key
/// <c>jobs.cleanup@daily at 03:00 UTC</c>, and the schedules page lists one row for each. A row's action must act on that
/// row's entry (its queue and key), not on every entry of the key; a paused entry's trigger is refused.
/// </summary>
public sealed class DashboardScheduleScopeTests
{
    private const string Key = "jobs.cleanup@daily at 03:00 UTC";

    private static Task PublishAsync(DashboardTestApp app, params string[] queues) => app.Store.PublishSchedulesAsync([.. queues.Select(q => new ScheduleRegistration
    {
        QueueName = q, EntryKey = Key, JobName = "jobs.cleanup:" + q, Description = "daily at 03:00 UTC", Payload = "{}"u8.ToArray(),
        NextFireAt = DateTimeOffset.UtcNow.AddHours(3), TimeToLive = TimeSpan.FromMinutes(10),
    })], CancellationToken.None);

    private static string Path(string action, string? queue)
        => $"api/schedules/{Uri.EscapeDataString(Key)}/{action}" + (queue is null ? "" : "?queue=" + Uri.EscapeDataString(queue));

    private static async Task<string> ActedOnAsync(DashboardTestApp app)
    {
        var paused = (await app.Admin.GetSchedulesAsync()).Where(e => e.IsPaused).Select(e => e.QueueName);
        var pushed = (await app.Admin.ListJobsAsync(new JobQuery())).Items.Select(j => j.QueueName);
        var queues = paused.Concat(pushed).Distinct().Order(StringComparer.Ordinal).ToArray();
        return queues.Length == 0 ? "nothing" : string.Join(", ", queues);
    }

    private static async Task<string> ErrorAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        try
        {
            return JsonDocument.Parse(text).RootElement.GetProperty("error").GetString() ?? text;
        }
        catch (JsonException)
        {
            return text;
        }
    }

    [Fact]
    public async Task A_rows_pause_and_trigger_act_on_that_rows_queue_alone()
    {
        await using var app = await DashboardTestApp.StartAsync(protect: true);
        await PublishAsync(app, "billing", "mail");
        var (_, token) = await app.SessionAsync(Caller.RemoteOperator);

        using var paused = await app.PostAsync(Path("pause", "billing"), Caller.RemoteOperator, new { reason = "billing db migration" }, token);

        var body = await paused.Content.ReadAsStringAsync();
        Assert.True(paused.StatusCode == HttpStatusCode.OK, $"pause of the billing row: {paused.StatusCode} {body}; acted on: {await ActedOnAsync(app)}");
        Assert.Equal("billing", await ActedOnAsync(app));

        using var triggered = await app.PostAsync(Path("trigger", "mail"), Caller.RemoteOperator, new { reason = "rerun" }, token);
        Assert.True(triggered.StatusCode == HttpStatusCode.OK, $"trigger of the mail row: {triggered.StatusCode} {await triggered.Content.ReadAsStringAsync()}");
        Assert.Equal(1, (await triggered.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("changed").GetInt32());
        Assert.Equal("billing, mail", await ActedOnAsync(app));
        Assert.Equal(["mail"], (await app.Admin.ListJobsAsync(new JobQuery())).Items.Select(j => j.QueueName));
    }

    [Fact]
    public async Task The_key_alone_of_two_queues_entries_gets_400_naming_the_queues_and_a_paused_entrys_trigger_409()
    {
        await using var app = await DashboardTestApp.StartAsync(protect: true);
        await PublishAsync(app, "billing", "mail");
        var (_, token) = await app.SessionAsync(Caller.RemoteOperator);

        using var alone = await app.PostAsync(Path("pause", null), Caller.RemoteOperator, new { reason = "" }, token);
        var error = await ErrorAsync(alone);
        Assert.True(alone.StatusCode == HttpStatusCode.BadRequest, $"{alone.StatusCode} {error}; acted on: {await ActedOnAsync(app)}");
        Assert.Contains("'billing'", error, StringComparison.Ordinal);
        Assert.Contains("'mail'", error, StringComparison.Ordinal);
        Assert.Equal("nothing", await ActedOnAsync(app));

        Assert.Equal(1, await app.Admin.PauseScheduleAsync("billing", Key, null));
        using var trigger = await app.PostAsync(Path("trigger", "billing"), Caller.RemoteOperator, new { reason = "" }, token);
        var refused = await ErrorAsync(trigger);
        Assert.True(trigger.StatusCode == HttpStatusCode.Conflict, $"{trigger.StatusCode} {refused}");
        Assert.Contains("is paused", refused, StringComparison.Ordinal);
        Assert.Empty((await app.Admin.ListJobsAsync(new JobQuery())).Items);
    }
}
