namespace Jobs.Sdk.Postgres;

/// <summary>
/// Migration 0015: the concurrency key and limit of a published schedule entry's job (<c>schedules.concurrency_key</c>,
/// <c>concurrency_limit</c>), so a manual trigger (<see cref="AdminSql.TriggerSchedule"/>) puts the job in its key's line as
/// the entry's scheduled fires and pushes do. The key is computed by the scheduler's process, which has the job type (a
/// <c>[ConcurrencyKey]</c> member key cannot be derived from the stored payload). Appended to <see cref="MigrationScripts.All"/>;
/// never edit it once shipped.
/// </summary>
internal static class ScheduleConcurrencyKeyMigration
{
    // The number is provisional (branch opsaudit): the lead renumbers on merge, after the other branches' migrations.
    public const string Name = "0015_schedule_concurrency_keys";

    // Nullable columns, no default (adding them rewrites nothing): code from the admin tables on keeps running. Its publish
    // names its columns (the key stays NULL, or as a newer publisher left it) and its trigger ignores them (pushing without
    // a key, as it always did).
    public const string Sql = """
        -- jobs:compatible-from 0003_create_admin_tables
        ALTER TABLE {s}.schedules ADD COLUMN IF NOT EXISTS concurrency_key text;
        ALTER TABLE {s}.schedules ADD COLUMN IF NOT EXISTS concurrency_limit integer;
        """;
}
