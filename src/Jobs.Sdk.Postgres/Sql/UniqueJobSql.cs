using static Jobs.Sdk.Postgres.SqlCodes;

namespace Jobs.Sdk.Postgres;

/// <summary>
/// Unique jobs: a key holds while its job's row carries it in <c>unique_key</c>; the partial unique index
/// <c>jobs_unique_key_idx (queue_name, unique_key)</c> makes the database, not a read-then-write, refuse a second holder.
/// A finished job releases its key once <c>unique_for</c> has passed since it finished (<see cref="Release"/>, run just
/// before each unique insert); a deleted job (retention, cleanup) releases it with its row.
/// </summary>
internal static class UniqueJobSql
{
    /// <summary>
    /// Releases key $2 of queue $1 when its holder finished at least its <c>unique_for</c> ago: deletes the holder when
    /// retention removes jobs of its state ($3 completed, $4 failed, $5 cancelled; kept only for the hold), else clears its key.
    /// </summary>
    public static readonly string Release = $$"""
        WITH expired AS MATERIALIZED (
            SELECT id, state, ((state = {{Completed}} AND $3) OR (state = {{Failed}} AND $4) OR (state = {{Cancelled}} AND $5)) AS remove
            FROM {s}.jobs
            WHERE queue_name = $1 AND unique_key = $2 AND state IN ({{Completed}}, {{Failed}}, {{Cancelled}})
                AND coalesce(finished_at, updated_at) + coalesce(unique_for, interval '0') <= now()
            FOR UPDATE
        ),
        removed AS (
            DELETE FROM {s}.jobs j USING expired e WHERE j.id = e.id AND e.remove
        )
        UPDATE {s}.jobs j SET unique_key = NULL FROM expired e WHERE j.id = e.id AND NOT e.remove
        """;

    /// <summary>
    /// Stores one job unless key $10 is held in queue $1: parameters as <see cref="JobSql.Push"/>, then $10 key and
    /// $11 unique_for in ms, $12 concurrency key and $13 its limit (as <see cref="JobSql.Push"/>'s $10 and $11). Returns (id, true) when inserted (and notifies $9), else (holder's id, false); no row when
    /// the holder committed after this statement's snapshot was taken (the caller asks again).
    /// </summary>
    public static readonly string Push = $$"""
        WITH {{ConcurrencyKeySql.LockKeys("$1", "(VALUES ($12::text))")}},
        ins AS (
            INSERT INTO {s}.jobs (id, queue_name, name, payload, headers, priority, run_at, max_attempts, unique_key, unique_for,
                concurrency_key, concurrency_limit, key_seq)
            SELECT $2, $1, $3, $4::jsonb, $5::jsonb, $6, coalesce($7, now()), $8, $10, $11 * interval '1 millisecond',
                $12, $13, {{ConcurrencyKeySql.Place("$12::text")}}
            FROM (SELECT count(*) FROM key_locks) l
            ON CONFLICT (queue_name, unique_key) WHERE unique_key IS NOT NULL DO NOTHING
            RETURNING id, run_at
        ),
        notified AS (
            SELECT pg_notify($9, CASE WHEN run_at <= now() THEN {{JobNotification.SqlDue}} ELSE {{JobNotification.SqlDueAt("run_at")}} END)
            FROM ins WHERE $9::text IS NOT NULL
        )
        SELECT ins.id, true, (SELECT count(*) FROM notified) FROM ins
        UNION ALL
        SELECT j.id, false, 0 FROM {s}.jobs j WHERE j.queue_name = $1 AND j.unique_key = $10 AND NOT EXISTS (SELECT 1 FROM ins)
        """;
}
