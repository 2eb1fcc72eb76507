namespace Jobs.Sdk.Postgres;

/// <summary>
/// The token buckets of rate-limited queues (<see cref="RateLimitSql"/>): one row per queue, written only by rate-limited
/// claims. Appended to <see cref="MigrationScripts.All"/>; never edit it once shipped. A new table only, so code from
/// before it keeps running against it.
/// </summary>
internal static class RateLimitMigration
{
    // The number is provisional (branch rate): 0009 is another branch's; the lead renumbers on merge.
    public const string Name = "0010_rate_limits";

    // fillfactor: the row is updated on every rate-limited claim; room on its page keeps those updates HOT.
    public const string Sql = """
        -- jobs:compatible-from 0005_rolling_deploys
        CREATE TABLE {s}.queue_rate_limits (
            queue_name  text             NOT NULL PRIMARY KEY,
            tokens      double precision NOT NULL,
            refilled_at timestamptz      NOT NULL
        ) WITH (fillfactor = 50);
        """;
}
