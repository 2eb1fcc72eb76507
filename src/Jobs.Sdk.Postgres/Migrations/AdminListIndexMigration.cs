namespace Jobs.Sdk.Postgres;

/// <summary>
/// Migration 0011: <c>jobs_admin_list_idx</c> without the processing rows. A claim rewrites each row it takes, and the new
/// row version enters every index whose predicate it matches: with processing rows in this index, each claimed job cost
/// one more index entry (and its WAL, and vacuum's work to remove it). The admin list of processing jobs reads
/// <c>jobs_queue_state_idx</c>, which holds them (as lease rescue and the global concurrency count do), and sorts them:
/// they are the jobs in flight, bounded by the workers' concurrency and prefetch, not by the table. The name is kept, so
/// <c>jobs doctor</c> of any version finds it. Appended to <see cref="MigrationScripts.All"/>; never edit it once shipped.
/// </summary>
internal static class AdminListIndexMigration
{
    // The number is provisional (branch claimcost): the lead renumbers on merge, after the other branches' migrations.
    public const string Name = "0011_admin_list_without_processing";

    // Code from the migration that created the index on runs against its new shape: none of it names the index.
    public const string Sql = """
        -- jobs:compatible-from 0003_create_admin_tables
        CREATE INDEX jobs_admin_list_idx_0011 ON {s}.jobs (queue_name, state, id DESC) WHERE state NOT IN (0, 1, 2);
        DROP INDEX {s}.jobs_admin_list_idx;
        ALTER INDEX {s}.jobs_admin_list_idx_0011 RENAME TO jobs_admin_list_idx;
        """;
}
