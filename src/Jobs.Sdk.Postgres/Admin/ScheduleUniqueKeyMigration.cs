namespace Jobs.Sdk.Postgres;

/// <summary>
/// Migration 0013: the unique key of a published schedule entry's job (<c>schedules.unique_key</c>, <c>unique_for</c>), so a
/// manual trigger (<see cref="AdminSql.TriggerSchedule"/>) keeps the unique-job promise as the entry's scheduled fires do.
/// The key is computed by the scheduler's process, which has the job type: a <c>[UniqueKey]</c> member key cannot be derived
/// from the stored payload, and nothing else stored says whether the type is unique. Appended to
/// <see cref="MigrationScripts.All"/>; never edit it once shipped.
/// </summary>
internal static class ScheduleUniqueKeyMigration
{
    // The number is provisional (branch triggerkey): the lead renumbers on merge, after the other branches' migrations.
    public const string Name = "0013_schedule_unique_keys";

    // Nullable columns, no default (adding them rewrites nothing): code from the admin tables on keeps running. Its publish
    // names its columns (the key stays NULL, or as a newer publisher left it) and its trigger ignores them (pushing without
    // a key, as it always did).
    public const string Sql = """
        -- jobs:compatible-from 0003_create_admin_tables
        ALTER TABLE {s}.schedules ADD COLUMN IF NOT EXISTS unique_key text;
        ALTER TABLE {s}.schedules ADD COLUMN IF NOT EXISTS unique_for interval;
        """;
}
