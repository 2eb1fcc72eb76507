using static Jobs.Sdk.Postgres.SqlCodes;

namespace Jobs.Sdk.Postgres;

// Reads: one job, names waiting unhandled (counts by name: CountByNameSql).
internal static partial class JobSql
{
    /// <summary>Job $2 of queue $1.</summary>
    public static readonly string GetJob = $$"""
        SELECT id, name, queue_name, state, priority, attempts, max_attempts, payload::text, created_at, run_at,
               started_at, finished_at, last_error, worker_id, errors::text
        FROM {s}.jobs WHERE id = $2 AND queue_name = $1
        """;

    /// <summary>
    /// Names of runnable jobs of queue $1 due for more than $2 ms: count and oldest run_at. Reads only the runnable rows
    /// (jobs_runnable_idx), for the periodic unhandled-name check. Sorted by name in "C" (byte, ordinal) order whatever the
    /// database's collation, as the in-memory driver sorts.
    /// </summary>
    public static readonly string GetWaitingNames = $$"""
        SELECT name, count(*), min(run_at) FROM {s}.jobs
        WHERE queue_name = $1 AND state IN ({{Pending}}, {{Retrying}}) AND run_at < now() - $2 * interval '1 millisecond'
        GROUP BY name ORDER BY name COLLATE "C"
        """;
}
