namespace Jobs.Sdk.Postgres;

/// <summary>SQL on <c>{s}.schedule_fires</c> (exactly-once recurring fires). <c>{s}</c> is the quoted schema.</summary>
internal static class ScheduleSql
{
    /// <summary>How far back fires are kept per entry (the latest fire is always kept).</summary>
    public const string PruneWindow = "1 day";

    /// <summary>
    /// The job id of a resume's record (a SQL uuid literal): resumed, an entry goes on from that instant for a scheduler
    /// that starts later, as from a fire (<see cref="AdminSql.SetSchedulePaused"/>); the admin lists do not show it as a fire.
    /// </summary>
    public const string ResumeRecord = "'00000000-0000-0000-0000-000000000000'::uuid";

    /// <summary>$1 queue, $2 entry key.</summary>
    public const string GetLastFireTime = "SELECT max(fire_time) FROM {s}.schedule_fires WHERE queue_name = $1 AND entry_key = $2";

    /// <summary>
    /// The latest fire of each entry $2[i] of queue $1 (null: none recorded): one backward probe of the primary key per
    /// entry, so a scheduler of thousands of entries starts with one statement, and entries that keep a day of fires are
    /// not read whole.
    /// </summary>
    public const string GetLastFireTimes = """
        SELECT k.entry_key,
            (SELECT max(f.fire_time) FROM {s}.schedule_fires f WHERE f.queue_name = $1 AND f.entry_key = k.entry_key)
        FROM unnest($2::text[]) AS k(entry_key)
        """;

    /// <summary>
    /// Records fire ($1 queue, $2 entry key, $3 fire time) and inserts the job ($4 id, $5 name, $6 payload, $7 headers,
    /// $8 priority, $9 run_at, $10 max_attempts) in one statement; nothing when the fire was already recorded.
    /// $11 channel, $12 concurrency key and $13 its limit (as <see cref="JobSql.Push"/>'s $10 and $11), $14 unique key
    /// (null: not unique) and $15 its unique_for in ms (as <see cref="UniqueJobSql.Push"/>'s $10 and $11). A stored fire
    /// prunes the entry's fires older than <see cref="PruneWindow"/> before it, so a fire more than <see cref="PruneWindow"/>
    /// below the entry's latest recorded fire counts as recorded (as in the in-memory store): a node that lags that far
    /// behind (stalled in an <see cref="ScheduleAccuracy.All"/> catch-up, or its clock behind) must not push a pruned fire again.
    /// <para>The job is not inserted when the entry is paused, or when a job of the queue holds its unique key: the insert
    /// yields on conflict with <c>jobs_unique_key_idx</c> exactly as a unique push does (a concurrent holder's insert is
    /// waited for), while the fire is recorded all the same, so no node pushes that fire later (run <see cref="UniqueJobSql.Release"/>
    /// first in the same transaction to free a key whose holder finished more than its unique_for ago). Returns one row:
    /// jobs inserted (0 or 1), notifications sent, fires recorded (0: already recorded), whether the entry is paused, and
    /// the key's holder as this statement's snapshot sees it (null when the job was inserted, or the holder committed after
    /// the snapshot was taken).</para>
    /// <para>An inserted job is announced on channel $11 as a push is: due now, or with its due time when its fire time is
    /// still ahead of the database clock (a scheduler whose machine clock runs ahead of the database's pushes each fire
    /// early; unannounced, idle workers found it only at their next poll).</para>
    /// </summary>
    public static readonly string TryPushScheduled = $$"""
        WITH {{ConcurrencyKeySql.LockKey("$1", "$12::text")}},
        fire AS (
            INSERT INTO {s}.schedule_fires (queue_name, entry_key, fire_time, job_id)
            SELECT $1, $2, $3, $4
            WHERE NOT EXISTS (
                SELECT 1 FROM {s}.schedule_fires l
                WHERE l.queue_name = $1 AND l.entry_key = $2 AND l.fire_time > $3 + interval '{{PruneWindow}}')
            ON CONFLICT DO NOTHING
            RETURNING job_id
        ),
        paused AS (
            SELECT EXISTS (SELECT 1 FROM {s}.schedules sc WHERE sc.queue_name = $1 AND sc.entry_key = $2 AND sc.paused) AS paused
        ),
        ins AS (
            INSERT INTO {s}.jobs (id, queue_name, name, payload, headers, priority, run_at, max_attempts, unique_key, unique_for,
                concurrency_key, concurrency_limit, key_seq)
            SELECT fire.job_id, $1, $5, $6::jsonb, $7::jsonb, $8, coalesce($9, now()), $10, $14::text,
                CASE WHEN $14::text IS NOT NULL THEN $15 * interval '1 millisecond' END,
                $12, $13, {{ConcurrencyKeySql.Place("$12::text")}}
            FROM fire, paused, (SELECT count(*) FROM key_locks) l
            WHERE NOT paused.paused
            ON CONFLICT (queue_name, unique_key) WHERE unique_key IS NOT NULL DO NOTHING
            RETURNING run_at
        ),
        wake AS (
            SELECT pg_notify($11, CASE WHEN run_at <= now() THEN {{JobNotification.SqlDue}} ELSE {{JobNotification.SqlDueAt("run_at")}} END)
            FROM ins WHERE $11::text IS NOT NULL
        ),
        pruned AS (
            DELETE FROM {s}.schedule_fires p
            WHERE p.queue_name = $1 AND p.entry_key = $2 AND p.fire_time < $3 - interval '{{PruneWindow}}' AND EXISTS (SELECT 1 FROM fire)
        )
        SELECT (SELECT count(*) FROM ins), (SELECT count(*) FROM wake), (SELECT count(*) FROM fire), (SELECT paused FROM paused),
            (SELECT j.id FROM {s}.jobs j WHERE $14::text IS NOT NULL AND j.queue_name = $1 AND j.unique_key = $14::text
                AND NOT EXISTS (SELECT 1 FROM ins) AND EXISTS (SELECT 1 FROM fire))
        """;

    /// <summary>The server's clock, which decides when jobs are due (a scheduler compares its own with it when it starts).</summary>
    public const string StoreTime = "SELECT clock_timestamp()";

    /// <summary>The job of queue $1 that holds unique key $2, if any (after <see cref="TryPushScheduled"/> found it held).</summary>
    public const string UniqueHolder = "SELECT id FROM {s}.jobs WHERE queue_name = $1 AND unique_key = $2";
}
