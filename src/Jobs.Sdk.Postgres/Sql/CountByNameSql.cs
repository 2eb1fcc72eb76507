using static Jobs.Sdk.Postgres.SqlCodes;

namespace Jobs.Sdk.Postgres;

/// <summary>
/// Counts per name and state of a queue (<see cref="JobQueue.GetCountsByNameAsync"/>), one bounded batch per statement
/// (each its own transaction), as a cleanup's dry run counts (<see cref="CleanupSql"/>): no index holds the name, so every
/// row is read, but through the queue's indexes, a batch at a time. One statement over the whole queue held one snapshot
/// for as long as it read a million rows, which slows every concurrent claim (issue 15). A batch returns one row per
/// name (and state) it read, each with how many rows the batch read and where it ended; none when it read nothing. A
/// batch of fewer than its limit rows is the last of its walk. The literal state lists let the planner use the partial
/// indexes in a generic plan too.
/// </summary>
internal static class CountByNameSql
{
    /// <summary>Rows per batch, as a cleanup's (~50 ms each on a laptop-class server).</summary>
    public const int BatchSize = CleanupSql.BatchSize;

    /// <summary>
    /// Finished and paused rows of queue $1 in state $2 (completed, failed, cancelled or paused), newest id first, from
    /// before id $3 (null: the first), up to $4 of them: name, count, rows read, the last (lowest) id read. The batch's ids
    /// come from <c>jobs_admin_list_idx</c> alone (an index-only scan, in its order, stopping at $4); their names from
    /// their rows, by id. Asked for the names at once, the planner read every row below $3 (a bitmap scan of the state
    /// index, then a sort) when ids and the table's order disagree (random ids): each batch read the rest of the state.
    /// The names are read by id alone, so that only the primary key can find them: the page's rows are those rows in the
    /// statement's one snapshot, and asked for the queue and state as well, a plan built on statistics from before the
    /// state grew (a young queue) read the state's whole range of a queue index for each batch and filtered it by the
    /// batch's ids (<c>id = ANY</c>, each entry compared with up to $4 of them): a call's work grew with the square of
    /// the state's size.
    /// </summary>
    public static readonly string Settled = $$"""
        WITH page AS MATERIALIZED (
            SELECT id FROM {s}.jobs
            WHERE queue_name = $1 AND state = $2 AND state NOT IN ({{Pending}}, {{Processing}}, {{Retrying}})
              AND id < coalesce($3::uuid, 'ffffffff-ffff-ffff-ffff-ffffffffffff')
            ORDER BY id DESC
            LIMIT $4
        ), named AS (
            SELECT name FROM {s}.jobs WHERE id = ANY (ARRAY(SELECT id FROM page))
        )
        SELECT name, count(*), (SELECT count(*) FROM page), (SELECT id FROM page ORDER BY id LIMIT 1) FROM named GROUP BY name
        """;

    /// <summary>
    /// Runnable rows (pending and retrying) of queue $1 and priority $2 in <c>jobs_runnable_idx</c> order from after
    /// ($3 run_at, $4 id) (null: the first), up to $5 of them: name, state, count, rows read, the last run_at and id read.
    /// As <see cref="Settled"/>: the batch from the index alone, then its rows by id alone (asked for the queue and the
    /// runnable states too, a plan built on a young queue's statistics read the queue's whole range of
    /// <c>jobs_runnable_idx</c> for each batch).
    /// </summary>
    public static readonly string Runnable = $$"""
        WITH page AS MATERIALIZED (
            SELECT run_at, id FROM {s}.jobs
            WHERE queue_name = $1 AND state IN ({{Pending}}, {{Retrying}}) AND priority = $2
              AND (run_at, id) > (coalesce($3::timestamptz, '-infinity'), coalesce($4::uuid, '00000000-0000-0000-0000-000000000000'))
            ORDER BY run_at, id
            LIMIT $5
        ), named AS (
            SELECT name, state FROM {s}.jobs WHERE id = ANY (ARRAY(SELECT id FROM page))
        ), last AS (
            SELECT run_at, id FROM page ORDER BY run_at DESC, id DESC LIMIT 1
        )
        SELECT name, state, count(*), (SELECT count(*) FROM page), (SELECT run_at FROM last), (SELECT id FROM last)
        FROM named GROUP BY name, state
        """;

    /// <summary>
    /// Running rows of queue $1 per name, in one statement through <c>jobs_queue_state_idx</c>: a queue runs as many jobs
    /// at once as its workers' slots (a dead worker's until the lease rescue), not a backlog; and their last change moves
    /// with each lease renewal, so no order walks them without reading some twice or not at all.
    /// </summary>
    public static readonly string Running = $$"""
        SELECT name, count(*) FROM {s}.jobs WHERE queue_name = $1 AND state = {{Processing}} GROUP BY name
        """;
}
