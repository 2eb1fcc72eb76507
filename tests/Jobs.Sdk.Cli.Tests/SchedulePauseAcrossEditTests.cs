using Jobs.Sdk.Drivers;
using Jobs.Sdk.Postgres;
using Jobs.Sdk.Postgres.Tests;

namespace Jobs.Sdk.Cli.Tests;

/// <summary>
/// A pause belongs to an entry key, and an entry's default key is <c>"{job name}@{schedule}"</c>: a deploy that edits the
/// schedule of a paused entry (daily 03:00 → 04:00) publishes a new key that is not paused, so the job fires again while
/// the operator's pause sits on the old, now stale key. <c>jobs schedules</c> must say so where the operator looks.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class SchedulePauseAcrossEditTests(PostgresFixture fixture) : IAsyncLifetime
{
    private const string OldKey = "nightly-digest@daily at 03:00 UTC";
    private const string NewKey = "nightly-digest@daily at 04:00 UTC";

    private readonly CliSchema _db = new(fixture);

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _db.DisposeAsync().AsTask();

    [Fact]
    public async Task A_paused_entry_whose_schedule_was_edited_is_named_with_the_unpaused_entry_that_replaced_it()
    {
        var admin = await _db.MigrateAsync();
        var store = new PostgresJobAdminStore(_db.DataSource, _db.Name);
        await store.PublishSchedulesAsync([Entry(OldKey, "daily at 03:00 UTC")], default);
        Assert.Equal(1, await admin.PauseScheduleAsync(OldKey));

        // The deploy: the old version's processes are gone (their publication expired), the new one publishes the edited entry.
        await _db.ExecuteAsync($"UPDATE \"{_db.Name}\".schedules SET seen_at = now() - interval '1 hour' WHERE entry_key = '{OldKey}'");
        await store.PublishSchedulesAsync([Entry(NewKey, "daily at 04:00 UTC")], default);

        var text = await _db.RunAsync(1, ["schedules"]);

        Assert.True(text.ExitCode == 0, text.ToString());
        Assert.True(text.Out.Contains($"'{OldKey}' is paused but stale, and job 'nightly-digest' is scheduled by '{NewKey}', which is not paused",
            StringComparison.Ordinal), text.ToString());

        // A script reads the same from --json, with the dashboard API's field names.
        var json = await _db.RunAsync(1, ["schedules", "--json"]);
        Assert.True(json.ExitCode == 0, json.ToString());
        var entries = json.Json.GetProperty("items").EnumerateArray().ToDictionary(e => e.GetProperty("entry").GetString()!);
        Assert.Equal([NewKey], Keys(entries[OldKey], "firingInstead"));
        Assert.Empty(Keys(entries[OldKey], "pauseLeftOn"));
        Assert.Equal([OldKey], Keys(entries[NewKey], "pauseLeftOn"));
        Assert.Empty(Keys(entries[NewKey], "firingInstead"));
        var doctor = await _db.RunAsync(1, ["doctor", "--json"]);
        var check = doctor.Json.GetProperty("checks").EnumerateArray().First(c => c.GetProperty("check").GetString() == "schedule pauses");
        Assert.Equal("warning", check.GetProperty("verdict").GetString());
        Assert.Contains($"jobs schedules pause \"{NewKey}\"", check.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_paused_stale_entry_whose_job_has_no_other_entry_gets_no_such_note()
    {
        var admin = await _db.MigrateAsync();
        var store = new PostgresJobAdminStore(_db.DataSource, _db.Name);
        await store.PublishSchedulesAsync([Entry(OldKey, "daily at 03:00 UTC"), Entry("other@hourly", "hourly", job: "other")], default);
        Assert.Equal(1, await admin.PauseScheduleAsync(OldKey));
        await _db.ExecuteAsync($"UPDATE \"{_db.Name}\".schedules SET seen_at = now() - interval '1 hour' WHERE entry_key = '{OldKey}'");

        var text = await _db.RunAsync(1, ["schedules"]);

        Assert.True(text.ExitCode == 0 && !text.Out.Contains("is paused but stale", StringComparison.Ordinal), text.ToString());
        var json = await _db.RunAsync(1, ["schedules", "--json"]);
        Assert.True(json.ExitCode == 0, json.ToString());
        Assert.All(json.Json.GetProperty("items").EnumerateArray(), e => Assert.Empty(Keys(e, "firingInstead").Concat(Keys(e, "pauseLeftOn"))));
        var doctor = await _db.RunAsync(1, ["doctor", "--json"]);
        var check = doctor.Json.GetProperty("checks").EnumerateArray().First(c => c.GetProperty("check").GetString() == "schedule pauses");
        Assert.Equal("ok", check.GetProperty("verdict").GetString());
    }

    private static string[] Keys(System.Text.Json.JsonElement entry, string field)
        => [.. entry.GetProperty(field).EnumerateArray().Select(k => k.GetString()!)];

    private static ScheduleRegistration Entry(string key, string description, string job = "nightly-digest") => new()
    {
        QueueName = "default", EntryKey = key, JobName = job, Description = description, Payload = "{}"u8.ToArray(),
        NextFireAt = DateTimeOffset.UtcNow.Date.AddDays(1).AddHours(3), TimeToLive = TimeSpan.FromSeconds(30),
    };
}
