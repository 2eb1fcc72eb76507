namespace Jobs.Sdk.Postgres;

/// <summary>
/// Migration 0017: <c>jobs.delete_requested</c>, set by an operator's delete of a running job (<see cref="AdminSql.Delete"/>).
/// Such a job keeps its row, and so its slot in its concurrency key's line and in its queue's global count, until its
/// worker writes its outcome (<see cref="JobSql.Complete"/>) or its lease expires (<see cref="JobSql.RescueExpired"/>);
/// either deletes the row. Appended to <see cref="MigrationScripts.All"/>; never edit it once shipped.
/// </summary>
internal static class DeleteRequestedMigration
{
    // The number is provisional (branch deleterunning): the lead renumbers on merge, after the other branches' migrations.
    public const string Name = "0017_delete_requested";

    // A column with a constant default (adding it rewrites nothing) that no older statement names: older code keeps
    // running. Its delete removes a running job's row at once, as it always did; its worker ends a job a newer operator
    // deleted while it ran as cancelled (sticky cancel) instead of deleting it, and its retry leaves the flag, which the
    // newer statements read only together with cancel_requested (see JobSql.Complete).
    public const string Sql = """
        -- jobs:compatible-from 0002_create_schedule_fires
        ALTER TABLE {s}.jobs ADD COLUMN IF NOT EXISTS delete_requested boolean NOT NULL DEFAULT false;
        """;
}
