using Jobs.Sdk.Drivers;
using Jobs.Sdk.Postgres;
using Jobs.Sdk.Postgres.Tests;
using Npgsql;

namespace Jobs.Sdk.Cli.Tests;

/// <summary>
/// The operator actions <see cref="JobAdmin"/> and the dashboard have, from a terminal: pause and resume a schedule entry, run
/// jobs now, set their priority, read the audit log. A real process against a real PostgreSQL, one fresh schema per test.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class OperatorActionTests(PostgresFixture fixture) : IAsyncLifetime
{
    private readonly CliSchema _db = new(fixture);
    private JobAdmin _admin = null!;

    public async Task InitializeAsync() => _admin = await _db.MigrateAsync();

    public Task DisposeAsync() => _db.DisposeAsync().AsTask();

    /// <summary>Runs <c>jobs {command} --schema {schema} {rest}</c>; <paramref name="words"/> is how many words name the command.</summary>
    private Task<JobsTool.Result> Jobs(int words, params string[] args) => _db.RunAsync(words, args);

    private PostgresJobDriver Driver(string queue) => _db.Driver(queue);

    private static JobPushRecord Job(string name, DateTimeOffset? runAt = null)
        => new() { Id = JobId.New(), Name = name, Payload = "{}"u8.ToArray(), RunAt = runAt };

    private Task PublishAsync(string entryKey) => new PostgresJobAdminStore(_db.DataSource, _db.Name).PublishSchedulesAsync([new ScheduleRegistration
    {
        QueueName = "default", EntryKey = entryKey, JobName = "digest", Description = "daily at 03:00 UTC", Payload = "{}"u8.ToArray(),
        NextFireAt = DateTimeOffset.UtcNow.Date.AddDays(1).AddHours(3),
    }], default);

    private async Task<bool> IsPausedAsync(string entryKey) => (await _admin.GetSchedulesAsync()).Single(s => s.EntryKey == entryKey).IsPaused;

    [Fact]
    public async Task Schedules_pause_and_resume_an_entry_and_an_unknown_key_is_an_error()
    {
        await PublishAsync("nightly-digest");

        var pause = await Jobs(2, "schedules", "pause", "--actor", "alice", "--reason", "report db migration", "nightly-digest");
        Assert.True(pause.ExitCode == 0, pause.ToString());
        Assert.Contains("paused", pause.Out);
        Assert.True(await IsPausedAsync("nightly-digest"));
        var listed = await Jobs(1, "schedules", "--json");
        Assert.True(Assert.Single(listed.Json.GetProperty("items").EnumerateArray()).GetProperty("paused").GetBoolean(), listed.ToString());

        // Pausing twice changes nothing and is not an error (as queue pause of a paused queue).
        var again = await Jobs(2, "schedules", "pause", "--json", "nightly-digest");
        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.False(again.Json.GetProperty("changed").GetBoolean());
        Assert.Equal("nightly-digest", again.Json.GetProperty("entry").GetString());

        var resume = await Jobs(2, "schedules", "resume", "--json", "nightly-digest");
        Assert.True(resume.ExitCode == 0, resume.ToString());
        Assert.True(resume.Json.GetProperty("changed").GetBoolean());
        Assert.False(await IsPausedAsync("nightly-digest"));

        var unknown = await Jobs(2, "schedules", "pause", "nightly-digset");
        Assert.True(unknown.ExitCode == 1 && unknown.Error.Contains("no schedule entry 'nightly-digset'", StringComparison.Ordinal), unknown.ToString());
        var unknownResume = await Jobs(2, "schedules", "resume", "nightly-digset");
        Assert.True(unknownResume.ExitCode == 1 && unknownResume.Error.Contains("no schedule entry", StringComparison.Ordinal), unknownResume.ToString());

        // The plain listing is still there.
        var table = await Jobs(1, "schedules");
        Assert.True(table.ExitCode == 0 && table.Out.Contains("nightly-digest", StringComparison.Ordinal), table.ToString());
    }

    [Fact]
    public async Task Run_now_makes_delayed_jobs_due_by_id_and_by_filter()
    {
        await using var driver = Driver("reports");
        var later = DateTimeOffset.UtcNow.AddDays(1);
        var delayed = Enumerable.Range(0, 3).Select(_ => Job("report", later)).ToArray();
        var other = Job("invoice", later);
        await driver.PushAsync([.. delayed, other], null, default);

        var byId = await Jobs(1, "run-now", "--actor", "bob", "--reason", "customer waiting", delayed[0].Id.ToString());
        Assert.True(byId.ExitCode == 0, byId.ToString());
        Assert.Contains("run-now: 1 job(s) changed", byId.Out);
        var storeNow = await _admin.GetStoreTimeAsync();
        Assert.True((await _admin.GetJobAsync(delayed[0].Id))!.RunAt <= storeNow, "run-now should make the job due now");
        Assert.True((await _admin.GetJobAsync(delayed[1].Id))!.RunAt > storeNow.AddHours(12));

        var byFilter = await Jobs(1, "run-now", "--name", "report", "--json");
        Assert.True(byFilter.ExitCode == 0, byFilter.ToString());
        Assert.Equal("run-now", byFilter.Json.GetProperty("action").GetString());
        Assert.Equal(2, byFilter.Json.GetProperty("changed").GetInt32());
        Assert.True((await _admin.GetJobAsync(other.Id))!.RunAt > storeNow.AddHours(12), "a job the filter does not match keeps its run time");

        // Same selection rules as retry/cancel/delete: no id and no filter needs --all; an id that did not change exits 1.
        var refuse = await Jobs(1, "run-now");
        Assert.True(refuse.ExitCode == 64 && refuse.Error.Contains("--all", StringComparison.Ordinal), refuse.ToString());
        var alreadyDue = await Jobs(1, "run-now", delayed[0].Id.ToString());
        Assert.True(alreadyDue.ExitCode == 1 && alreadyDue.Error.Contains("1 of the 1 job id(s) given did not change", StringComparison.Ordinal), alreadyDue.ToString());
    }

    [Fact]
    public async Task Priority_changes_waiting_jobs_by_id_and_by_filter()
    {
        await using var driver = Driver("reports");
        var waiting = Enumerable.Range(0, 3).Select(_ => Job("report", DateTimeOffset.UtcNow.AddDays(1))).ToArray();
        await driver.PushAsync(waiting, null, default);

        var byId = await Jobs(1, "priority", "--to", "highest", "--reason", "vip", waiting[0].Id.ToString());
        Assert.True(byId.ExitCode == 0, byId.ToString());
        Assert.Contains("priority: 1 job(s) changed", byId.Out);
        Assert.Equal(JobPriority.Highest, (await _admin.GetJobAsync(waiting[0].Id))!.Priority);
        Assert.Equal(JobPriority.Normal, (await _admin.GetJobAsync(waiting[1].Id))!.Priority);

        var byFilter = await Jobs(1, "priority", "--to", "Lower", "--queue", "reports", "--state", "pending", "--json");
        Assert.True(byFilter.ExitCode == 0, byFilter.ToString());
        Assert.Equal(3, byFilter.Json.GetProperty("changed").GetInt32());
        var shown = await Jobs(1, "show", "--json", waiting[2].Id.ToString());
        Assert.Equal("Lower", shown.Json.GetProperty("priority").GetString());

        var bad = await Jobs(1, "priority", "--to", "urgent", waiting[0].Id.ToString());
        Assert.True(bad.ExitCode == 64 && bad.Error.Contains("--to: 'urgent'", StringComparison.Ordinal), bad.ToString());
        Assert.Equal(JobPriority.Lower, (await _admin.GetJobAsync(waiting[0].Id))!.Priority);
    }

    [Fact]
    public async Task Audit_lists_the_actions_with_actor_and_reason_newest_first()
    {
        await PublishAsync("nightly-digest");
        await using var driver = Driver("reports");
        var job = Job("report", DateTimeOffset.UtcNow.AddDays(1));
        await driver.PushAsync([job], null, default);

        Assert.Equal(0, (await Jobs(2, "schedules", "pause", "--actor", "alice", "--reason", "db migration", "nightly-digest")).ExitCode);
        Assert.Equal(0, (await Jobs(1, "priority", "--to", "higher", "--actor", "bob", "--reason", "vip customer", job.Id.ToString())).ExitCode);
        Assert.Equal(0, (await Jobs(1, "run-now", "--actor", "carol", "--reason", "cannot wait", job.Id.ToString())).ExitCode);

        var json = await Jobs(1, "audit", "--json");
        Assert.True(json.ExitCode == 0, json.ToString());
        var entries = json.Json.EnumerateArray().ToArray();
        Assert.Equal(["run-now", "set-priority:Higher", "schedule.pause"], entries.Select(e => e.GetProperty("action").GetString()));
        Assert.Equal(["carol", "bob", "alice"], entries.Select(e => e.GetProperty("actor").GetString()));
        Assert.Equal(["cannot wait", "vip customer", "db migration"], entries.Select(e => e.GetProperty("reason").GetString()));
        Assert.Equal("nightly-digest (queue default)", entries[2].GetProperty("target").GetString());
        Assert.Equal([1, 1, 1], entries.Select(e => e.GetProperty("rowsChanged").GetInt32()));
        Assert.True(entries[0].GetProperty("at").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddHours(-1));

        var limited = await Jobs(1, "audit", "--limit", "1", "--json");
        Assert.Equal("run-now", Assert.Single(limited.Json.EnumerateArray()).GetProperty("action").GetString());

        var text = await Jobs(1, "audit");
        Assert.True(text.ExitCode == 0, text.ToString());
        Assert.StartsWith("AT", text.Out);
        Assert.Contains("vip customer", text.Out);
        Assert.Contains("alice", text.Out);

        var badLimit = await Jobs(1, "audit", "--limit", "0");
        Assert.True(badLimit.ExitCode == 64 && badLimit.Error.Contains("--limit", StringComparison.Ordinal), badLimit.ToString());
    }

    /// <summary>
    /// The audit log's retention runs with the workers' rescue passes: a store no worker serves (a dashboard-only deployment,
    /// the time between worker deployments) or whose worker role may not delete from the log kept every entry, and an
    /// operator had no way to apply the retention. <c>jobs audit prune</c> deletes the entries older than an age (every
    /// batch, not a worker pass's ten) and records itself in the log.
    /// </summary>
    [Fact]
    public async Task Audit_prune_deletes_the_entries_older_than_the_age_and_records_itself()
    {
        await PublishAsync("nightly-digest");
        await using var driver = Driver("reports");
        var job = Job("report", DateTimeOffset.UtcNow.AddDays(1));
        await driver.PushAsync([job], null, default);
        Assert.Equal(0, (await Jobs(2, "schedules", "pause", "--actor", "alice", "nightly-digest")).ExitCode);
        Assert.Equal(0, (await Jobs(1, "run-now", "--actor", "carol", job.Id.ToString())).ExitCode);

        // The pause and 2,500 more entries (more than two batches) from 100 days ago; the run-now is fresh.
        await using (var age = _db.DataSource.CreateCommand($"""
            UPDATE "{_db.Name}".audit_log SET at = now() - interval '100 days' WHERE action = 'schedule.pause';
            INSERT INTO "{_db.Name}".audit_log (at, actor, action, target, rows_changed)
            SELECT now() - interval '100 days', 'old', 'retry', 'x', 1 FROM generate_series(1, 2500);
            """))
        {
            await age.ExecuteNonQueryAsync();
        }

        var prune = await Jobs(2, "audit", "prune", "--older-than", "90d", "--actor", "ops", "--reason", "no workers here", "--json");
        Assert.True(prune.ExitCode == 0, prune.ToString());
        Assert.Equal(2501, prune.Json.GetProperty("deleted").GetInt64());

        var log = await _admin.GetAuditLogAsync(limit: 10);
        Assert.Equal(["audit.prune", "run-now"], log.Select(e => e.Action));
        Assert.Equal(("ops", "no workers here", 2501), (log[0].Actor, log[0].Reason, log[0].RowsChanged));
        Assert.Equal("older than 90d", log[0].Target); // the age as the operator writes it, not TimeSpan's "90.00:00:00"
        Assert.Equal("90d", prune.Json.GetProperty("olderThan").GetString());

        // Nothing that old any more: the default age (the retention's 90 days) deletes nothing, in text.
        var again = await Jobs(2, "audit", "prune");
        Assert.True(again.ExitCode == 0 && again.Out.Contains("deleted 0 audit log entries older than 90d.", StringComparison.Ordinal), again.ToString());
        Assert.Equal(3, (await _admin.GetAuditLogAsync(limit: 10)).Count);

        // An age no unit divides keeps its exact form, which --older-than reads back.
        var odd = await Jobs(2, "audit", "prune", "--older-than", "1.5h", "--json");
        Assert.True(odd.ExitCode == 0 && odd.Json.GetProperty("olderThan").GetString() == "90m", odd.ToString());
        var exact = await Jobs(2, "audit", "prune", "--older-than", "90.5s", "--json");
        Assert.True(exact.ExitCode == 0 && exact.Json.GetProperty("olderThan").GetString() == "00:01:30.5000000", exact.ToString());

        var bad = await Jobs(2, "audit", "prune", "--older-than", "soon");
        Assert.True(bad.ExitCode == 64 && bad.Error.Contains("--older-than", StringComparison.Ordinal), bad.ToString());
    }

    [Theory]
    [InlineData("retyr", "retyr", "0192f0c4-7a3e-7b6e-9a55-3f1d2c4b5a69")]
    [InlineData("run-now2", "run-now2", "--all")]
    [InlineData("queue pasue", "queue", "pasue", "emails")]
    [InlineData("queue", "queue")]
    public async Task An_unknown_command_exits_64_so_a_script_sees_it(string named, params string[] args)
    {
        // A typo, or a command this (older) tool does not have: it printed the command list and exited 0, so a script
        // went on as if the jobs were retried.
        var result = await JobsTool.RunAsync(fixture.ConnectionString, args);
        Assert.True(result.ExitCode == 64 && result.Error.Contains($"no jobs command '{named}'", StringComparison.Ordinal), result.ToString());
        Assert.Contains("Commands:", result.Error);
    }

    [Theory]
    [InlineData("--help")]
    [InlineData("queue", "--help")]
    [InlineData("priority", "-h")]
    [InlineData("--version")]
    public async Task Asking_for_help_still_exits_0(params string[] args)
    {
        var result = await JobsTool.RunAsync(fixture.ConnectionString, args);
        Assert.True(result.ExitCode == 0 && result.Error.Length == 0 && result.Out.Length > 0, result.ToString());
    }
}
