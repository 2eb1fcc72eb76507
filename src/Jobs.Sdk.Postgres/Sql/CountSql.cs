namespace Jobs.Sdk.Postgres;

/// <summary>
/// Per-state counts of a queue from <c>{s}.job_state_counts</c> (migration 0003): the jobs table keeps it up to date
/// with statement-level triggers that append one delta row per (queue, state) a statement changed. Reading sums the
/// deltas (O(states + deltas since the last compaction)); compaction folds a queue's deltas into one row per state.
/// </summary>
internal static class CountSql
{
    /// <summary>Delta rows of a queue beyond which they are compacted (by a read, and by each worker's rescue pass).</summary>
    public const int CompactAfter = 256;

    /// <summary>Per-state totals of queue $1, and how many delta rows made them.</summary>
    public const string Read = """
        SELECT state, sum(n)::bigint, count(*) FROM {s}.job_state_counts WHERE queue_name = $1 GROUP BY state
        """;

    /// <summary>
    /// Per-state totals of every queue with delta rows, and how many delta rows made each: O(queues x states + deltas),
    /// never a count of the jobs (the admin API's queue list and the state gauge of all the queues a process uses).
    /// </summary>
    public const string ReadAll = """
        SELECT queue_name, state, sum(n)::bigint, count(*) FROM {s}.job_state_counts GROUP BY 1, 2
        """;

    /// <summary>
    /// Folds the committed deltas of queue $1 into one row per state when there are more than $2 of them (else does
    /// nothing). Safe with concurrent writers (their uncommitted deltas are not seen, so not folded) and with concurrent
    /// compactions (each re-inserts the sum of exactly the rows it deleted).
    /// </summary>
    public const string Compact = """
        WITH folded AS (
            DELETE FROM {s}.job_state_counts
            WHERE queue_name = $1 AND (SELECT count(*) FROM {s}.job_state_counts WHERE queue_name = $1) > $2
            RETURNING state, n
        )
        INSERT INTO {s}.job_state_counts (queue_name, state, n)
        SELECT $1, state, sum(n) FROM folded GROUP BY state HAVING sum(n) <> 0
        """;
}
