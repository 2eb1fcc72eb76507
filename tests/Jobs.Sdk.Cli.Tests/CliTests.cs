using System.Text.Json;
using Jobs.Sdk.Drivers;
using Jobs.Sdk.Postgres;
using Jobs.Sdk.Postgres.Tests;
using Npgsql;

namespace Jobs.Sdk.Cli.Tests;

/// <summary>The jobs tool as a user runs it: a real process against a real PostgreSQL, one fresh schema per test.</summary>
[Collection(PostgresCollection.Name)]
public sealed class CliTests(PostgresFixture fixture) : IAsyncLifetime
{
    private readonly CliSchema _db = new(fixture);

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _db.DisposeAsync().AsTask();

    /// <summary>Runs <c>jobs {command} --schema {schema} {rest}</c> (options before arguments, as users type them).</summary>
    private Task<JobsTool.Result> Jobs(params string[] args) => _db.RunAsync(args[0] == "queue" ? 2 : 1, args);

    private PostgresJobDriver Driver(string queue) => _db.Driver(queue);

    private static JobPushRecord Job(string name, string payload, DateTimeOffset? runAt = null)
        => new() { Id = JobId.New(), Name = name, Payload = System.Text.Encoding.UTF8.GetBytes(payload), RunAt = runAt };

    /// <summary>A genuinely failed job: claimed and reported failed by a worker.</summary>
    private static async Task<JobId> FailedJobAsync(PostgresJobDriver driver, string error)
    {
        var job = Job("send-email", """{"to":"dead@example.com"}""");
        await driver.PushAsync([job], null, default);
        var claimed = await driver.ClaimAsync(new JobClaimRequest("w-test", 10, TimeSpan.FromMinutes(1)), default);
        var mine = claimed.Single(c => c.Id == job.Id);
        await driver.CompleteAsync("w-test", [new JobOutcome(job.Id, JobOutcomeKind.Failed, mine.Attempt, Error: error, LeaseToken: mine.LeaseToken) { StackTrace = error + "\n   at Mailer.SendAsync()" }], default);
        return job.Id;
    }

    [Fact]
    public async Task Migrate_dry_run_script_and_apply()
    {
        var dry = await Jobs("migrate", "--dry-run", "--json");
        Assert.True(dry.ExitCode == 2, dry.ToString());
        Assert.Equal(PostgresJobMigrations.GetMigrations().Select(m => m.Name), dry.Json.GetProperty("pending").EnumerateArray().Select(e => e.GetString()));

        var script = await JobsTool.RunAsync(null, "migrate", "--script", "--schema", _db.Name);
        Assert.True(script.ExitCode == 0, script.ToString());
        Assert.Contains($"CREATE TABLE \"{_db.Name}\".audit_log", script.Out);

        var apply = await Jobs("migrate");
        Assert.True(apply.ExitCode == 0, apply.ToString());
        Assert.Contains("applied: 0001_create_jobs", apply.Out);
        var again = await Jobs("migrate", "--dry-run");
        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Contains("up to date", again.Out);
    }

    [Fact]
    public async Task Without_a_connection_the_tool_says_how_to_give_one()
    {
        var result = await JobsTool.RunAsync(null, "status");
        Assert.Equal(64, result.ExitCode);
        Assert.Contains("JOBS_CONNECTION", result.Error);

        var unmigrated = await Jobs("status");
        Assert.Equal(78, unmigrated.ExitCode);
        Assert.Contains("jobs migrate", unmigrated.Error);
    }

    [Fact]
    public async Task List_show_retry_cancel_delete_and_the_audit_trail()
    {
        await PostgresJobMigrations.ApplyAsync(_db.DataSource, _db.Name);
        await using var driver = Driver("emails");
        var failed = await FailedJobAsync(driver, "SmtpException: mailbox unavailable");
        var later = DateTimeOffset.UtcNow.AddDays(1);
        var waiting = Enumerable.Range(0, 3).Select(i => Job("send-email", $$"""{"to":"user{{i}}@example.com"}""", later)).ToArray();
        await driver.PushAsync(waiting, null, default);

        var list = await Jobs("list", "--state", "failed", "--json");
        Assert.True(list.ExitCode == 0, list.ToString());
        var item = Assert.Single(list.Json.GetProperty("items").EnumerateArray());
        Assert.Equal(failed.ToString(), item.GetProperty("id").GetString());
        Assert.Equal("failed", item.GetProperty("state").GetString());

        var byPayload = await Jobs("list", "--payload", """{"to":"user1@example.com"}""", "--json");
        Assert.Equal(waiting[1].Id.ToString(), Assert.Single(byPayload.Json.GetProperty("items").EnumerateArray()).GetProperty("id").GetString());

        var human = await Jobs("list", "--queue", "emails", "--limit", "2");
        Assert.True(human.ExitCode == 0, human.ToString());
        Assert.StartsWith("ID", human.Out);
        Assert.Contains("next page: --cursor ", human.Out);

        var show = await Jobs("show", failed.ToString(), "--json");
        Assert.True(show.ExitCode == 0, show.ToString());
        Assert.True(show.ExitCode == 0, show.ToString());
        Assert.Equal("dead@example.com", show.Json.GetProperty("payload").GetProperty("to").GetString());
        var error = Assert.Single(show.Json.GetProperty("errors").EnumerateArray());
        Assert.Equal(1, error.GetProperty("attempt").GetInt32());
        Assert.Contains("mailbox unavailable", error.GetProperty("error").GetString());
        Assert.Equal("SmtpException: mailbox unavailable\n   at Mailer.SendAsync()", error.GetProperty("stackTrace").GetString());
        var shown = (await Jobs("show", failed.ToString())).Out;
        Assert.Contains("mailbox unavailable", shown);
        Assert.Contains("\n       at Mailer.SendAsync()", shown.ReplaceLineEndings("\n"));
        Assert.Equal(1, (await Jobs("show", JobId.New().ToString())).ExitCode);

        var retry = await Jobs("retry", "--actor", "alice", "--reason", "smtp is back", failed.ToString());
        Assert.True(retry.ExitCode == 0, retry.ToString());
        Assert.Contains("retry: 1 job(s) changed", retry.Out);
        var admin = PostgresJobAdmin.Create(_db.DataSource, new PostgresJobDriverOptions { Schema = _db.Name });
        Assert.Equal(JobState.Pending, (await admin.GetJobAsync(failed))!.State);

        var cancel = await Jobs("cancel", "--queue", "emails", "--state", "pending", "--json");
        Assert.True(cancel.ExitCode == 0, cancel.ToString());
        Assert.Equal(4, cancel.Json.GetProperty("changed").GetInt32());

        var misplaced = await JobsTool.RunAsync(fixture.ConnectionString, "delete", failed.ToString(), "--schema", _db.Name);
        Assert.Equal(64, misplaced.ExitCode);
        Assert.Contains("put options first", misplaced.Error);

        var refuse = await Jobs("delete");
        Assert.Equal(64, refuse.ExitCode);
        Assert.Contains("--all", refuse.Error);

        var delete = await Jobs("delete", waiting[0].Id.ToString(), waiting[1].Id.ToString());
        Assert.Contains("delete: 2 job(s) changed", delete.Out);
        Assert.Null(await admin.GetJobAsync(waiting[0].Id));

        var audit = await admin.GetAuditLogAsync();
        Assert.Equal(["delete", "cancel", "retry"], audit.Select(a => a.Action));
        Assert.Equal("alice", audit[2].Actor);
        Assert.Equal("smtp is back", audit[2].Reason);
        Assert.StartsWith("cli:", audit[1].Actor);
    }

    [Fact]
    public async Task Job_ids_an_action_does_not_change_are_named_in_an_error_and_exit_1()
    {
        await PostgresJobMigrations.ApplyAsync(_db.DataSource, _db.Name);
        await using var driver = Driver("emails");
        var failed = await FailedJobAsync(driver, "SmtpException: mailbox unavailable");
        var missing = JobId.New();

        var retry = await Jobs("retry", failed.ToString(), missing.ToString());
        Assert.True(retry.ExitCode == 1, retry.ToString());
        Assert.Contains("retry: 1 job(s) changed", retry.Out);
        Assert.Contains("1 of the 2 job id(s) given did not change", retry.Error);

        var json = await Jobs("delete", "--json", missing.ToString());
        Assert.True(json.ExitCode == 1, json.ToString());
        Assert.Equal((0, 1), (json.Json.GetProperty("changed").GetInt32(), json.Json.GetProperty("requested").GetInt32()));

        // Filters that match nothing are not an error.
        var none = await Jobs("cancel", "--queue", "no-such-queue");
        Assert.True(none.ExitCode == 0, none.ToString());
    }

    [Fact]
    public async Task Control_characters_in_stored_text_do_not_reach_the_operators_terminal()
    {
        // An error message, a job name and a header value are text anyone who can make a job fail or push one controls:
        // raw escape sequences would clear the screen, rewrite earlier lines or set the terminal's clipboard (OSC 52).
        await PostgresJobMigrations.ApplyAsync(_db.DataSource, _db.Name);
        await using var driver = Driver("emails");
        const string hostile = "boom\u001b[2J\u001b]52;c;ZWNobyBwd25lZA==\u0007\u009b31m done";
        var failed = await FailedJobAsync(driver, "SmtpException: " + hostile);
        var named = Job("report\u001b[1A\u001b[2K", "{}") with { Headers = new Dictionary<string, string> { ["x-note"] = "a\u001b]0;title\u0007b" } };
        await driver.PushAsync([named], null, default);

        string[][] commands = [["list"], ["show", failed.ToString()], ["show", named.Id.ToString()], ["status"]];
        foreach (var args in commands)
        {
            var result = await Jobs(args);
            Assert.True(result.ExitCode == 0, result.ToString());
            Assert.DoesNotContain(result.Out, c => char.IsControl(c) && c is not '\n' and not '\r' and not '\t');
        }

        var shown = (await Jobs("show", failed.ToString())).Out;
        Assert.Contains("SmtpException: boom", shown);
        Assert.Contains("done", shown);

        // --json keeps the exact text (escaped by JSON).
        var json = await Jobs("show", failed.ToString(), "--json");
        Assert.Equal("SmtpException: " + hostile, json.Json.GetProperty("errors")[0].GetProperty("error").GetString());
    }

    [Theory]
    [InlineData("list", "--since", "99999999999d")]
    [InlineData("list", "--until", "1e300h")]
    [InlineData("cleanup", "--failed", "Infinityd")]
    [InlineData("doctor", "--long-transaction", "9999999999999999999s")]
    public async Task An_out_of_range_duration_is_a_user_error_not_a_crash(string command, string option, string value)
    {
        await PostgresJobMigrations.ApplyAsync(_db.DataSource, _db.Name);
        var result = await Jobs(command, option, value);
        Assert.True(result.ExitCode == 64, result.ToString());
        Assert.Contains($"error: {option}", result.Error);
        Assert.DoesNotContain("   at ", result.Error);
        Assert.DoesNotContain("Exception", result.Error);
    }

    [Fact]
    public async Task Queue_pause_and_resume_show_in_status_and_stop_claims()
    {
        await PostgresJobMigrations.ApplyAsync(_db.DataSource, _db.Name);
        await using var driver = Driver("reports");
        await driver.PushAsync([Job("report", "{}")], null, default);

        var pause = await Jobs("queue", "pause", "reports", "--reason", "db maintenance");
        Assert.True(pause.ExitCode == 0, pause.ToString());
        Assert.Empty(await driver.ClaimAsync(new JobClaimRequest("w", 5, TimeSpan.FromMinutes(1)), default));

        var status = await Jobs("status", "--json");
        var queue = status.Json.GetProperty("queues").EnumerateArray().Single(q => q.GetProperty("name").GetString() == "reports");
        Assert.True(queue.GetProperty("paused").GetBoolean());
        Assert.Equal("db maintenance", queue.GetProperty("pausedReason").GetString());
        Assert.Equal(1, queue.GetProperty("counts").GetProperty("pending").GetInt64());
        Assert.Contains("db maintenance", (await Jobs("status")).Out);

        Assert.Equal(0, (await Jobs("queue", "resume", "reports")).ExitCode);
        Assert.Single(await driver.ClaimAsync(new JobClaimRequest("w", 5, TimeSpan.FromMinutes(1)), default));
    }

    [Fact]
    public async Task Pausing_a_queue_no_job_or_worker_has_warns_of_a_likely_typo_and_names_the_known_queues()
    {
        // "jobs queue pause emials" during an incident: the emails queue keeps running while the tool says "paused".
        await PostgresJobMigrations.ApplyAsync(_db.DataSource, _db.Name);
        await using var driver = Driver("emails");
        await driver.PushAsync([Job("send-email", "{}")], null, default);

        var typo = await Jobs("queue", "pause", "emials");
        Assert.True(typo.ExitCode == 0 && typo.Error.Contains("warning", StringComparison.Ordinal) && typo.Error.Contains("emails", StringComparison.Ordinal),
            $"Pausing a queue that has no jobs and no workers should warn and name the known queues: {typo}");

        var real = await Jobs("queue", "pause", "emails");
        Assert.True(real.ExitCode == 0 && !real.Error.Contains("warning", StringComparison.Ordinal), real.ToString());
    }

    [Fact]
    public async Task Pausing_a_queue_name_with_trailing_whitespace_is_an_error_and_pauses_nothing()
    {
        // `jobs queue pause "emails "` (a name pasted with its trailing space) used to pause another queue, 'emails ', and exit 0. A name the tool refuses is a usage error: exit 64.
        await PostgresJobMigrations.ApplyAsync(_db.DataSource, _db.Name);
        await using var driver = Driver("emails");
        await driver.PushAsync([Job("send-email", "{}")], null, default);

        var padded = await Jobs("queue", "pause", "emails ");

        Assert.True(padded.ExitCode == 64, padded.ToString());
        Assert.Contains("error: A queue name must not start or end with whitespace: 'emails ' would be another name than 'emails'", padded.Error);
        Assert.DoesNotContain("   at ", padded.Error);
        Assert.Equal(0L, await _db.ScalarAsync($"SELECT count(*) FROM \"{_db.Name}\".queues WHERE paused"));
    }

    [Fact]
    public async Task Schedules_are_listed_and_triggered()
    {
        await PostgresJobMigrations.ApplyAsync(_db.DataSource, _db.Name);
        var store = new PostgresJobAdminStore(_db.DataSource, _db.Name);
        await store.PublishSchedulesAsync([new ScheduleRegistration
        {
            QueueName = "default", EntryKey = "nightly-digest", JobName = "digest", Description = "daily at 03:00 UTC",
            Payload = """{"kind":"nightly"}"""u8.ToArray(), NextFireAt = DateTimeOffset.UtcNow.Date.AddDays(1).AddHours(3),
        }], default);

        var list = await Jobs("schedules", "--json");
        var entry = Assert.Single(list.Json.GetProperty("items").EnumerateArray());
        Assert.Equal("nightly-digest", entry.GetProperty("entry").GetString());
        Assert.Equal("daily at 03:00 UTC", entry.GetProperty("schedule").GetString());
        Assert.Contains("nightly-digest", (await Jobs("schedules")).Out);

        var trigger = await Jobs("trigger", "nightly-digest");
        Assert.True(trigger.ExitCode == 0, trigger.ToString());
        var admin = PostgresJobAdmin.Create(_db.DataSource, new PostgresJobDriverOptions { Schema = _db.Name });
        var job = Assert.Single((await admin.ListJobsAsync(new JobQuery { Names = ["digest"] })).Items);
        Assert.Equal("nightly-digest", (await admin.GetJobAsync(job.Id))!.ScheduleEntry);
        Assert.Equal(1, (await Jobs("trigger", "no-such-entry")).ExitCode);

        // A unique entry: the triggered job holds its key, so a second trigger pushes nothing and says why.
        await store.PublishSchedulesAsync([new ScheduleRegistration
        {
            QueueName = "default", EntryKey = "unique-digest", JobName = "digest-unique", Description = "hourly",
            Payload = """{"kind":"unique"}"""u8.ToArray(), UniqueKey = "digest-unique:k", UniqueFor = TimeSpan.FromHours(1),
        }], default);
        var first = await Jobs("trigger", "unique-digest");
        Assert.True(first.ExitCode == 0, first.ToString());
        var second = await Jobs("trigger", "unique-digest");
        Assert.Equal(1, second.ExitCode);
        Assert.Contains("holds its key", second.ToString());
        Assert.Single((await admin.ListJobsAsync(new JobQuery { Names = ["digest-unique"] })).Items);
    }

    [Fact]
    public async Task Schedules_says_which_entries_no_running_scheduler_publishes()
    {
        await PostgresJobMigrations.ApplyAsync(_db.DataSource, _db.Name);
        var store = new PostgresJobAdminStore(_db.DataSource, _db.Name);
        await store.PublishSchedulesAsync(
            [.. new[] { "live-digest", "removed-digest" }.Select(key => new ScheduleRegistration
            {
                QueueName = "default", EntryKey = key, JobName = "digest", Description = "daily at 03:00 UTC", Payload = "{}"u8.ToArray(),
                NextFireAt = DateTimeOffset.UtcNow.Date.AddDays(1).AddHours(3), TimeToLive = TimeSpan.FromSeconds(30),
            })], default);
        await using (var age = _db.DataSource.CreateCommand($"UPDATE \"{_db.Name}\".schedules SET seen_at = now() - interval '1 hour' WHERE entry_key = 'removed-digest'"))
        {
            await age.ExecuteNonQueryAsync();
        }

        var list = await Jobs("schedules", "--json");
        var stale = list.Json.GetProperty("items").EnumerateArray().ToDictionary(e => e.GetProperty("entry").GetString()!, e => e.GetProperty("stale").GetBoolean());
        Assert.Equal(new Dictionary<string, bool> { ["live-digest"] = false, ["removed-digest"] = true }, stale);
        var text = await Jobs("schedules");
        Assert.True(text.ExitCode == 0 && text.Out.Contains("STALE: no running scheduler publishes the entry", StringComparison.Ordinal), text.ToString());
    }

    [Fact]
    public async Task An_action_on_a_schema_older_than_the_tool_says_to_migrate()
    {
        // A rolling deploy: the operator's jobs tool is the new version, the schema still the one before the last three migrations.
        await PostgresJobMigrations.ApplyAsync(_db.DataSource, _db.Name);
        await using var driver = Driver("emails");
        var failed = await FailedJobAsync(driver, "SmtpException: mailbox unavailable");
        var known = PostgresJobMigrations.GetMigrations(_db.Name).Count;
        await using (var older = _db.DataSource.CreateCommand($"""
            ALTER TABLE "{_db.Name}".jobs DROP COLUMN released_unique_key;
            DROP INDEX "{_db.Name}".audit_log_at_idx;
            ALTER TABLE "{_db.Name}".schedules DROP COLUMN publish_ttl, DROP COLUMN concurrency_key, DROP COLUMN concurrency_limit;
            DELETE FROM "{_db.Name}".schema_migrations WHERE version > {known - 3};
            """))
        {
            await older.ExecuteNonQueryAsync();
        }

        var retry = await Jobs("retry", failed.ToString());
        Assert.True(retry.ExitCode == 78 && retry.Error.Contains("jobs migrate", StringComparison.Ordinal) && retry.Error.Contains("older", StringComparison.Ordinal),
            $"A retry against an older schema should exit 78 and say the schema is older than the tool and to run `jobs migrate`: {retry}");
        Assert.Equal(JobState.Failed, (await driver.GetJobAsync(failed, default))?.State);
    }

    [Fact]
    public async Task Cleanup_deletes_finished_jobs_older_than_the_given_age()
    {
        await PostgresJobMigrations.ApplyAsync(_db.DataSource, _db.Name);
        await using var driver = Driver("emails");
        await FailedJobAsync(driver, "X: y");
        var keep = await Jobs("cleanup", "--failed", "1d", "--json");
        Assert.True(keep.ExitCode == 0, keep.ToString());
        Assert.Equal(0, keep.Json.GetProperty("deleted").GetInt64());
        var remove = await Jobs("cleanup", "--failed", "0s", "--json");
        Assert.Equal(1, remove.Json.GetProperty("deleted").GetInt64());
    }

    [Fact]
    public async Task Cleanup_reports_the_rows_it_deleted_while_other_jobs_finish_during_the_run()
    {
        await PostgresJobMigrations.ApplyAsync(_db.DataSource, _db.Name);
        await using var driver = Driver("emails");
        // More old completed jobs than one cleanup batch (CleanupSql.BatchSize = 5,000), so the run takes two batches.
        var old = Enumerable.Range(0, 5_001).Select(i => Job("send-email", $$"""{"n":{{i}}}""")).ToArray();
        await driver.PushAsync(old, null, default);
        await Sql($"UPDATE {{s}}.jobs SET state = {(int)JobState.Completed}, finished_at = now() - interval '2 hours', updated_at = now() - interval '2 hours'");
        var running = Job("send-email", """{"n":"running"}""");
        await driver.PushAsync([running], null, default);
        Assert.Equal(running.Id, Assert.Single(await driver.ClaimAsync(new JobClaimRequest("w-test", 10, TimeSpan.FromMinutes(5)), default)).Id);
        // The running job completes while the cleanup runs: in the transaction of its first batch (a trigger on that DELETE).
        await Sql($$"""
            CREATE FUNCTION {s}.finish_running() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                UPDATE {s}.jobs SET state = {{(int)JobState.Completed}}, finished_at = now(), updated_at = now() WHERE state = {{(int)JobState.Processing}};
                RETURN NULL;
            END $$;
            CREATE TRIGGER finish_running AFTER DELETE ON {s}.jobs FOR EACH STATEMENT EXECUTE FUNCTION {s}.finish_running();
            """);

        var cleanup = await Jobs("cleanup", "--completed", "1h", "--json");

        Assert.True(cleanup.ExitCode == 0, cleanup.ToString());
        Assert.Equal(5_001, cleanup.Json.GetProperty("deleted").GetInt64());
        Assert.Equal(5_001, cleanup.Json.GetProperty("queues").GetProperty("emails").GetInt64());
        var admin = PostgresJobAdmin.Create(_db.DataSource, new PostgresJobDriverOptions { Schema = _db.Name });
        var left = (await admin.ListJobsAsync(new JobQuery { Limit = 10 })).Items;
        Assert.Equal(running.Id, Assert.Single(left).Id);
        Assert.Equal(JobState.Completed, left[0].State);
    }

    /// <summary>Runs <paramref name="sql"/> with <c>{s}</c> standing for this test's schema.</summary>
    private async Task Sql(string sql)
    {
        await using var command = _db.DataSource.CreateCommand(sql.Replace("{s}", $"\"{_db.Name}\"", StringComparison.Ordinal));
        await command.ExecuteNonQueryAsync();
    }

    [Fact]
    public async Task Doctor_reports_each_problem_with_what_to_do_and_exits_non_zero()
    {
        var empty = await Jobs("doctor", "--json");
        Assert.True(empty.ExitCode == 2, empty.ToString());
        Assert.Contains("jobs migrate", Check(empty.Json, "schema version").GetProperty("advice").GetString());

        await PostgresJobMigrations.ApplyAsync(_db.DataSource, _db.Name);
        var healthy = await Jobs("doctor", "--json");
        Assert.True(healthy.ExitCode == 0, healthy.ToString());
        Assert.All(healthy.Json.GetProperty("checks").EnumerateArray(), c => Assert.NotEqual("problem", c.GetProperty("verdict").GetString()));
        foreach (var name in new[] { "schema version", "indexes", "table bloat", "oldest transaction", "expired leases", "unhandled jobs", "schedule pauses", "LISTEN/NOTIFY queue" })
        {
            Check(healthy.Json, name);
        }

        // A due job no live worker handles, a processing job whose worker died long ago, a dropped index.
        await using var driver = Driver("emails");
        await driver.PushAsync([Job("orphan-job", "{}")], null, default);
        await driver.PushAsync([Job("stuck-job", "{}")], null, default);
        await driver.ClaimAsync(new JobClaimRequest("dead-worker", 1, TimeSpan.FromMinutes(1)), default);
        await using (var expire = _db.DataSource.CreateCommand($"UPDATE \"{_db.Name}\".jobs SET lease_expires_at = now() - interval '10 minutes' WHERE state = 1"))
        {
            await expire.ExecuteNonQueryAsync();
        }

        await using (var drop = _db.DataSource.CreateCommand($"DROP INDEX \"{_db.Name}\".jobs_admin_list_idx"))
        {
            await drop.ExecuteNonQueryAsync();
        }

        var sick = await Jobs("doctor", "--json");
        Assert.True(sick.ExitCode == 2, sick.ToString());
        Assert.Equal("problem", sick.Json.GetProperty("verdict").GetString());
        Assert.Contains("emails: 1", Check(sick.Json, "expired leases").GetProperty("detail").GetString());
        Assert.Contains("-job", Check(sick.Json, "unhandled jobs").GetProperty("detail").GetString());
        Assert.Contains("jobs_admin_list_idx", Check(sick.Json, "indexes").GetProperty("detail").GetString());
        var human = await Jobs("doctor");
        Assert.Contains("PROBLEM expired leases", human.Out);
        Assert.Contains("what to do:", human.Out);
    }

    private static JsonElement Check(JsonElement doctor, string name)
        => doctor.GetProperty("checks").EnumerateArray().First(c => c.GetProperty("check").GetString() == name);
}
