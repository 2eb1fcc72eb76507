namespace Jobs.Sdk.Postgres;

/// <summary>SQL on <c>{s}.schedule_fires</c> (exactly-once recurring fires). <c>{s}</c> is the quoted schema.</summary>
internal static class ScheduleSql
{
    /// <summary>$1 queue, $2 entry key.</summary>
    public const string GetLastFireTime = "SELECT max(fire_time) FROM {s}.schedule_fires WHERE queue_name = $1 AND entry_key = $2";

    /// <summary>
    /// Records fire ($1 queue, $2 entry key, $3 fire time) and inserts the job ($4 id, $5 name, $6 payload, $7 headers,
    /// $8 priority, $9 run_at, $10 max_attempts) in one statement; nothing when the fire was already recorded.
    /// $11 channel. Returns one row when the job was stored.
    /// </summary>
    public static readonly string TryPushScheduled = $$"""
        WITH fire AS (
            INSERT INTO {s}.schedule_fires (queue_name, entry_key, fire_time, job_id)
            VALUES ($1, $2, $3, $4)
            ON CONFLICT DO NOTHING
            RETURNING job_id
        ),
        ins AS (
            INSERT INTO {s}.jobs (id, queue_name, name, payload, headers, priority, run_at, max_attempts)
            SELECT fire.job_id, $1, $5, $6::jsonb, $7::jsonb, $8, coalesce($9, now()), $10 FROM fire
            RETURNING run_at
        ),
        wake AS (
            SELECT pg_notify($11, {{JobNotification.SqlDue}}) FROM ins WHERE run_at <= now() AND $11::text IS NOT NULL
        )
        SELECT (SELECT count(*) FROM ins), (SELECT count(*) FROM wake)
        """;
}
