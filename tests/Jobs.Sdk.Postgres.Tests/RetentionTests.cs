using Jobs.Sdk.Drivers;
using Npgsql;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// A queue that runs for a year: the admin catalogs neither grow forever nor keep listing what is gone. Rows are aged with
/// the database clock (their times moved back), never by waiting.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class RetentionTests(PostgresFixture fixture) : IAsyncLifetime
{
    private readonly MigratedSchema _db = new(fixture, "ret_");

    private string SchemaName => _db.Name;

    private NpgsqlDataSource DataSource => _db.DataSource;

    private string S => _db.S;

    public Task InitializeAsync() => _db.InitializeAsync();

    public Task DisposeAsync() => _db.DisposeAsync();

    [Fact]
    public async Task A_workers_rescue_pass_deletes_audit_entries_older_than_the_retention()
    {
        var store = new PostgresJobAdminStore(DataSource, SchemaName);
        foreach (var action in new[] { "old-1", "old-2", "recent", "new" })
        {
            await store.AppendAuditAsync(new AuditEntry { At = default, Action = action, Target = "emails" }, default);
        }

        await DataSource.ExecAsync($"UPDATE {S}.audit_log SET at = now() - interval '91 days' WHERE action LIKE 'old-%'");
        await DataSource.ExecAsync($"UPDATE {S}.audit_log SET at = now() - interval '89 days' WHERE action = 'recent'");

        await using (var driver = new PostgresJobDriver(DataSource, new PostgresJobDriverOptions { Schema = SchemaName, MigrateOnStartup = false }))
        {
            await driver.RescueExpiredLeasesAsync(default);
        }

        Assert.Equal(["new", "recent"], (await store.GetAuditLogAsync(100, default)).Select(e => e.Action));
    }

    [Fact]
    public async Task The_audit_retention_is_configurable_and_a_large_backlog_goes_in_bounded_passes()
    {
        await DataSource.ExecAsync($"""
            INSERT INTO {S}.audit_log (at, action, target) SELECT now() - interval '400 days', 'ancient', 'q' FROM generate_series(1, 25000);
            INSERT INTO {S}.audit_log (at, action, target) VALUES (now() - interval '200 days', 'kept', 'q');
            """);
        var options = new PostgresJobDriverOptions { Schema = SchemaName, MigrateOnStartup = false, Retention = new RetentionPolicy { AuditLog = TimeSpan.FromDays(365) } };
        await using var driver = new PostgresJobDriver(DataSource, options);

        await driver.RescueExpiredLeasesAsync(default);
        var afterOne = await DataSource.ScalarAsync($"SELECT count(*) FROM {S}.audit_log WHERE action = 'ancient'");
        Assert.InRange(afterOne, 1, 24_999); // one pass deletes a bounded share, never the whole backlog in one go

        for (var pass = 0; pass < 10 && await DataSource.ScalarAsync($"SELECT count(*) FROM {S}.audit_log WHERE action = 'ancient'") > 0; pass++)
        {
            await driver.RescueExpiredLeasesAsync(default);
        }

        Assert.Equal(0, await DataSource.ScalarAsync($"SELECT count(*) FROM {S}.audit_log WHERE action = 'ancient'"));
        Assert.Equal(1, await DataSource.ScalarAsync($"SELECT count(*) FROM {S}.audit_log WHERE action = 'kept'"));

        // Kept forever when asked to.
        var forever = new PostgresJobDriverOptions { Schema = SchemaName, MigrateOnStartup = false, Retention = new RetentionPolicy { AuditLog = Timeout.InfiniteTimeSpan } };
        await using var keeping = new PostgresJobDriver(DataSource, forever);
        await DataSource.ExecAsync($"UPDATE {S}.audit_log SET at = now() - interval '3000 days'");
        await keeping.RescueExpiredLeasesAsync(default);
        Assert.Equal(1, await DataSource.ScalarAsync($"SELECT count(*) FROM {S}.audit_log"));
    }

    [Fact]
    public async Task An_entry_no_scheduler_republished_within_its_time_to_live_is_listed_as_stale()
    {
        var store = new PostgresJobAdminStore(DataSource, SchemaName);
        await store.PublishSchedulesAsync([Entry("live"), Entry("removed"), Entry("old-code", ttl: TimeSpan.Zero)], default);
        await DataSource.ExecAsync($"UPDATE {S}.schedules SET seen_at = now() - interval '5 minutes' WHERE entry_key = 'removed'");
        // Published by code from before 0016 (no time to live) two minutes ago: a live process with a longer lease.
        await DataSource.ExecAsync($"UPDATE {S}.schedules SET seen_at = now() - interval '2 minutes' WHERE entry_key = 'old-code'");

        var entries = (await store.GetSchedulesAsync(default)).ToDictionary(e => e.EntryKey);
        Assert.False(entries["live"].IsStale, "an entry published a moment ago is listed as stale");
        Assert.False(entries["old-code"].IsStale, "an entry an older process published two minutes ago is listed as stale");
        Assert.True(entries["removed"].IsStale, "an entry no process published for 5 minutes (time to live 30 s) is not listed as stale");
    }

    [Fact]
    public async Task A_publish_deletes_entries_no_scheduler_published_for_seven_days_with_their_fires_but_keeps_paused_and_live_ones()
    {
        var store = new PostgresJobAdminStore(DataSource, SchemaName);
        await store.PublishSchedulesAsync([Entry("kept"), Entry("gone"), Entry("paused"), Entry("six-days")], default);
        // Another process (another version in a rolling deploy) publishes an entry this one does not have.
        await store.PublishSchedulesAsync([Entry("other-version")], default);
        Assert.Equal(1, await store.SetSchedulePausedAsync("paused", true, default));
        await DataSource.ExecAsync($"""
            UPDATE {S}.schedules SET seen_at = now() - interval '8 days' WHERE entry_key IN ('gone', 'paused');
            UPDATE {S}.schedules SET seen_at = now() - interval '6 days' WHERE entry_key = 'six-days';
            INSERT INTO {S}.schedule_fires (queue_name, entry_key, fire_time, job_id, created_at)
            SELECT 'reports', e, now() - interval '8 days' - g * interval '1 minute', md5(random()::text)::uuid, now() - interval '8 days'
            FROM unnest(ARRAY['kept', 'gone', 'paused']) AS e, generate_series(1, 3) AS g;
            """);

        await store.PublishSchedulesAsync([Entry("kept")], default);

        var entries = (await store.GetSchedulesAsync(default)).ToDictionary(e => e.EntryKey);
        Assert.False(entries.ContainsKey("gone"), "an entry no scheduler published for 8 days is still listed");
        Assert.Equal(["kept", "other-version", "paused", "six-days"], entries.Keys.Order(StringComparer.Ordinal));
        Assert.True(entries["paused"].IsStale && entries["paused"].IsPaused);
        Assert.True(entries["six-days"].IsStale);
        Assert.False(entries["other-version"].IsStale);
        Assert.Equal(0, await DataSource.ScalarAsync($"SELECT count(*) FROM {S}.schedule_fires WHERE entry_key = 'gone'"));
        Assert.Equal(3, await DataSource.ScalarAsync($"SELECT count(*) FROM {S}.schedule_fires WHERE entry_key = 'kept'"));
        Assert.Equal(3, await DataSource.ScalarAsync($"SELECT count(*) FROM {S}.schedule_fires WHERE entry_key = 'paused'"));
    }

    [Fact]
    public async Task A_queue_row_an_older_version_left_after_a_resume_does_not_list_the_queue()
    {
        // Code from before this fix kept the row of a resumed queue (paused = false): such rows exist in every store.
        await DataSource.ExecAsync($"INSERT INTO {S}.queues (name, paused, updated_at) VALUES ('resumed-long-ago', false, now() - interval '300 days')");
        var store = new PostgresJobAdminStore(DataSource, SchemaName);
        Assert.DoesNotContain(await store.GetQueuesAsync(default), q => q.Name == "resumed-long-ago");
    }

    [Fact]
    public async Task A_role_without_DELETE_on_the_catalogs_keeps_publishing_and_rescuing_and_keeps_what_it_cannot_prune()
    {
        var role = "ret_role_" + Guid.NewGuid().ToString("N")[..8];
        await DataSource.ExecAsync($"""
            CREATE ROLE {role} LOGIN;
            GRANT USAGE ON SCHEMA {S} TO {role};
            GRANT ALL ON ALL TABLES IN SCHEMA {S} TO {role};
            GRANT ALL ON ALL SEQUENCES IN SCHEMA {S} TO {role};
            REVOKE DELETE ON {S}.audit_log, {S}.schedules FROM {role};
            INSERT INTO {S}.audit_log (at, action, target) VALUES (now() - interval '400 days', 'ancient', 'q');
            INSERT INTO {S}.schedules (queue_name, entry_key, job_name, description, payload, seen_at)
            VALUES ('reports', 'forgotten', 'report', 'hourly', '{"{}"}', now() - interval '30 days');
            """);
        try
        {
            await using (var limited = fixture.CreateDataSource(b => b.Username = role))
            {
                await new PostgresJobAdminStore(limited, SchemaName).PublishSchedulesAsync([Entry("kept")], default);
                await using var driver = new PostgresJobDriver(limited, new PostgresJobDriverOptions { Schema = SchemaName, MigrateOnStartup = false });
                await driver.RescueExpiredLeasesAsync(default);
            }

            var entries = (await new PostgresJobAdminStore(DataSource, SchemaName).GetSchedulesAsync(default)).Select(e => e.EntryKey);
            Assert.Equal(["forgotten", "kept"], entries.Order(StringComparer.Ordinal));
            Assert.Equal(1, await DataSource.ScalarAsync($"SELECT count(*) FROM {S}.audit_log WHERE action = 'ancient'"));
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            await DataSource.ExecAsync($"DROP OWNED BY {role}; DROP ROLE {role}");
        }
    }

    private static ScheduleRegistration Entry(string key, TimeSpan? ttl = null) => new()
    {
        QueueName = "reports", EntryKey = key, JobName = "report", Description = "cron 0 3 * * *", Payload = "{}"u8.ToArray(),
        NextFireAt = DateTimeOffset.UtcNow.AddHours(1), TimeToLive = ttl ?? TimeSpan.FromSeconds(30),
    };
}
