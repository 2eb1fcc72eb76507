namespace Jobs.Sdk.Postgres;

/// <summary>SQL on <c>{s}.schedule_fires</c> (exactly-once recurring fires). <c>{s}</c> is the quoted schema.</summary>
internal static class ScheduleSql
{
    /// <summary>How far back fires are kept per entry (the latest fire is always kept).</summary>
    public const string PruneWindow = "1 day";

    /// <summary>$1 queue, $2 entry key.</summary>
    public const string GetLastFireTime = "SELECT max(fire_time) FROM {s}.schedule_fires WHERE queue_name = $1 AND entry_key = $2";

    /// <summary>
    /// Records fire ($1 queue, $2 entry key, $3 fire time) and inserts the job ($4 id, $5 name, $6 payload, $7 headers,
    /// $8 priority, $9 run_at, $10 max_attempts) in one statement; nothing when the fire was already recorded.
    /// $11 channel, $12 concurrency key and $13 its limit (as <see cref="JobSql.Push"/>'s $10 and $11). Returns one row when the job was stored. A stored fire prunes the entry's fires older than
    /// <see cref="PruneWindow"/> before it, so a fire more than <see cref="PruneWindow"/> below the entry's latest recorded
    /// fire counts as recorded (as in the in-memory store): a node that lags that far behind (stalled in an
    /// <see cref="ScheduleAccuracy.All"/> catch-up, or its clock behind) must not push a pruned fire again.
    /// </summary>
    public static readonly string TryPushScheduled = $$"""
        WITH {{ConcurrencyKeySql.LockKeys("$1", "(VALUES ($12::text))")}},
        fire AS (
            INSERT INTO {s}.schedule_fires (queue_name, entry_key, fire_time, job_id)
            SELECT $1, $2, $3, $4
            WHERE NOT EXISTS (
                SELECT 1 FROM {s}.schedule_fires l
                WHERE l.queue_name = $1 AND l.entry_key = $2 AND l.fire_time > $3 + interval '{{PruneWindow}}')
            ON CONFLICT DO NOTHING
            RETURNING job_id
        ),
        ins AS (
            INSERT INTO {s}.jobs (id, queue_name, name, payload, headers, priority, run_at, max_attempts, concurrency_key, concurrency_limit, key_seq)
            SELECT fire.job_id, $1, $5, $6::jsonb, $7::jsonb, $8, coalesce($9, now()), $10, $12, $13, {{ConcurrencyKeySql.Place("$12::text")}}
            FROM fire, (SELECT count(*) FROM key_locks) l
            WHERE NOT EXISTS (SELECT 1 FROM {s}.schedules sc WHERE sc.queue_name = $1 AND sc.entry_key = $2 AND sc.paused)
            RETURNING run_at
        ),
        wake AS (
            SELECT pg_notify($11, {{JobNotification.SqlDue}}) FROM ins WHERE run_at <= now() AND $11::text IS NOT NULL
        ),
        pruned AS (
            DELETE FROM {s}.schedule_fires p
            WHERE p.queue_name = $1 AND p.entry_key = $2 AND p.fire_time < $3 - interval '{{PruneWindow}}' AND EXISTS (SELECT 1 FROM fire)
        )
        SELECT (SELECT count(*) FROM ins), (SELECT count(*) FROM wake)
        """;
}
