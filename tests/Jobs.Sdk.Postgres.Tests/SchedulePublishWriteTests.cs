using System.Text;
using Jobs.Sdk.Drivers;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// A scheduler of 5,000 entries republishes them every third of its lease (10 s by default) on every host: each publish
/// rewrote every entry's row (5,000 row versions of WAL and bloat per host every 10 s at rest). Rows written are counted by
/// their versions (<c>xmin</c>) and locks (<c>xmax</c>), rows are aged with the database clock, never by waiting.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class SchedulePublishWriteTests(PostgresFixture fixture) : IAsyncLifetime
{
    private const int Entries = 5_000;
    private static readonly DateTimeOffset NextFire = new(2031, 3, 1, 10, 0, 0, TimeSpan.Zero);
    private readonly MigratedSchema _db = new(fixture, "pubw_");

    public Task InitializeAsync() => _db.InitializeAsync();

    public Task DisposeAsync() => _db.DisposeAsync();

    [Fact]
    public async Task Republishing_5000_unchanged_fresh_entries_writes_and_locks_no_row()
    {
        var store = new PostgresJobAdminStore(_db.DataSource, _db.Name);
        var entries = Enumerable.Range(0, Entries).Select(i => Entry($"entry-{i}")).ToArray();
        await store.PublishSchedulesAsync(entries, default);
        await SnapshotAsync();

        await store.PublishSchedulesAsync(entries, default);

        var written = await WrittenSinceSnapshotAsync();
        Assert.True(written == 0,
            $"Republishing {Entries} unchanged entries published a moment ago wrote or locked {written} of their rows (expected none).");
        Assert.DoesNotContain(await store.GetSchedulesAsync(default), e => e.IsStale);
    }

    [Fact]
    public async Task A_republish_writes_the_changed_entries_and_refreshes_those_past_half_their_time_to_live_only()
    {
        var store = new PostgresJobAdminStore(_db.DataSource, _db.Name);
        string[] keys = ["same", "payload", "next-fire", "ttl", "aged-10s", "aged-20s", "paused", "other-version", "removed"];
        await store.PublishSchedulesAsync(keys.Select(k => Entry(k)).ToArray(), default);
        Assert.Equal(1, await store.SetSchedulePausedAsync("paused", true, default));
        // Half the time to live (30 s) is 15 s: an entry published 10 s ago is fresh, one published 20 s ago is refreshed.
        await _db.DataSource.ExecAsync($"""
            UPDATE {_db.S}.schedules SET seen_at = now() - interval '10 seconds' WHERE entry_key = 'aged-10s';
            UPDATE {_db.S}.schedules SET seen_at = now() - interval '20 seconds' WHERE entry_key IN ('aged-20s', 'removed', 'other-version');
            """);
        await SnapshotAsync();

        // This version changed two entries, its lease and its entry set ('removed' is gone; 'other-version' is another
        // version's, which refreshes it itself).
        await store.PublishSchedulesAsync([
            Entry("same"), Entry("payload", payload: """{"v":2}"""), Entry("next-fire", nextFire: NextFire.AddHours(1)),
            Entry("ttl", ttl: TimeSpan.FromSeconds(60)), Entry("aged-10s"), Entry("aged-20s"), Entry("paused", payload: """{"v":3}"""),
        ], default);
        await store.PublishSchedulesAsync([Entry("other-version", payload: """{"older":true}""")], default);

        Assert.Equal(["aged-20s", "next-fire", "other-version", "paused", "payload", "ttl"], await WrittenKeysSinceSnapshotAsync());
        var listed = (await store.GetSchedulesAsync(default)).ToDictionary(e => e.EntryKey);
        Assert.True(listed["paused"].IsPaused, "a republish of a paused entry resumed it");
        Assert.Equal(NextFire.AddHours(1), listed["next-fire"].NextFireAt);
        Assert.Equal("""{"v": 2}""", await TextAsync($"SELECT payload::text FROM {_db.S}.schedules WHERE entry_key = 'payload'"));
        Assert.Equal("""{"older": true}""", await TextAsync($"SELECT payload::text FROM {_db.S}.schedules WHERE entry_key = 'other-version'"));
        Assert.Equal("00:01:00", await TextAsync($"SELECT publish_ttl::text FROM {_db.S}.schedules WHERE entry_key = 'ttl'"));
        Assert.Equal(1, await _db.DataSource.ScalarAsync($"SELECT count(*) FROM {_db.S}.schedules WHERE entry_key = 'aged-20s' AND seen_at > now() - interval '5 seconds'"));
        Assert.Equal(1, await _db.DataSource.ScalarAsync($"SELECT count(*) FROM {_db.S}.schedules WHERE entry_key = 'aged-10s' AND seen_at < now() - interval '5 seconds'"));

        // Nobody republished 'removed': 40 s after its last publication (time to live 30 s) it is stale, the others are not.
        await _db.DataSource.ExecAsync($"UPDATE {_db.S}.schedules SET seen_at = now() - interval '40 seconds' WHERE entry_key = 'removed'");
        Assert.Equal(["removed"], (await store.GetSchedulesAsync(default)).Where(e => e.IsStale).Select(e => e.EntryKey));
    }

    private Task SnapshotAsync() => _db.DataSource.ExecAsync($"""
        DROP TABLE IF EXISTS {_db.S}.row_versions;
        CREATE TABLE {_db.S}.row_versions AS SELECT entry_key, xmin::text AS version, xmax::text AS locker FROM {_db.S}.schedules;
        """);

    private Task<long> WrittenSinceSnapshotAsync() => _db.DataSource.ScalarAsync($"""
        SELECT count(*) FROM {_db.S}.schedules s JOIN {_db.S}.row_versions v USING (entry_key)
        WHERE s.xmin::text <> v.version OR s.xmax::text <> v.locker
        """);

    private async Task<string[]> WrittenKeysSinceSnapshotAsync()
        => (await TextAsync($"""
            SELECT string_agg(entry_key, ',' ORDER BY entry_key COLLATE "C") FROM {_db.S}.schedules s JOIN {_db.S}.row_versions v USING (entry_key)
            WHERE s.xmin::text <> v.version OR s.xmax::text <> v.locker
            """)).Split(',');

    private async Task<string> TextAsync(string sql)
    {
        await using var command = _db.DataSource.CreateCommand(sql);
        return (string)(await command.ExecuteScalarAsync())!;
    }

    private static ScheduleRegistration Entry(string key, string payload = "{}", DateTimeOffset? nextFire = null, TimeSpan? ttl = null) => new()
    {
        QueueName = "reports", EntryKey = key, JobName = "report", Description = "cron 0 3 * * *", Payload = Encoding.UTF8.GetBytes(payload),
        NextFireAt = nextFire ?? NextFire, TimeToLive = ttl ?? TimeSpan.FromSeconds(30),
    };
}
