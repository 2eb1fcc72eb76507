namespace Jobs.Sdk.Postgres;

/// <summary>
/// Migration 0016: what keeps the admin catalogs from growing forever. <c>audit_log_at_idx</c> serves the audit log's
/// retention (<see cref="AuditRetentionSql"/>: the oldest entries, in bounded batches, read in index order); the nullable
/// <c>schedules.publish_ttl</c> is how long a scheduler's publication of an entry holds (its lease duration), so an entry no
/// running scheduler publishes any more is listed as stale and, after <see cref="ScheduleRetentionSql.ForgetAfter"/>,
/// deleted. Appended to <see cref="MigrationScripts.All"/>; never edit it once shipped.
/// </summary>
internal static class RetentionMigration
{
    // The number is provisional (branch retention): the lead renumbers on merge, after the other branches' migrations.
    public const string Name = "0016_retention";

    // An index and a nullable column (adding it rewrites nothing): code from the admin tables on keeps running. Its publish
    // names its columns and leaves publish_ttl as it was (NULL, or as a newer publisher left it, which its refreshed
    // seen_at keeps live); its reads ignore both.
    public const string Sql = """
        -- jobs:compatible-from 0003_create_admin_tables
        CREATE INDEX IF NOT EXISTS audit_log_at_idx ON {s}.audit_log (at);
        ALTER TABLE {s}.schedules ADD COLUMN IF NOT EXISTS publish_ttl interval;
        """;
}
