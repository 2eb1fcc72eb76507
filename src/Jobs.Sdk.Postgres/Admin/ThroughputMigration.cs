namespace Jobs.Sdk.Postgres;

/// <summary>
/// The throughput table behind <see cref="JobAdmin.GetThroughputAsync"/>: finished jobs per minute, queue and worker, upserted by
/// each worker process with its presence heartbeat and pruned after a few hours. Appended to <see cref="MigrationScripts.All"/>;
/// never edit it once shipped. A new table only, so code from before it keeps running against it.
/// </summary>
internal static class ThroughputMigration
{
    // The number is provisional (branch dash2): the lead renumbers on merge, after the other branches' migrations.
    public const string Name = "0008_throughput";

    // Primary key led by the minute: the dashboard's range read and the prune both scan one index range.
    public const string Sql = """
        -- jobs:compatible-from 0005_rolling_deploys
        CREATE TABLE {s}.throughput (
            minute     timestamptz NOT NULL,
            queue_name text        NOT NULL,
            worker_id  text        NOT NULL,
            completed  integer     NOT NULL DEFAULT 0,
            failed     integer     NOT NULL DEFAULT 0,
            PRIMARY KEY (minute, queue_name, worker_id)
        );
        """;
}
