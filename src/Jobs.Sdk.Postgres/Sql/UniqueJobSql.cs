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
    /// retention removes jobs of its state ($3 completed, $4 failed, $5 cancelled; kept only for the hold) and no operator's
    /// cancel kept it for inspection (<see cref="OperatorCancelSql.KeptForInspection"/>), else clears its key (remembered in
    /// <c>released_unique_key</c>, for a retry: <see cref="UniqueRetrySql"/>).
    /// </summary>
    public static readonly string Release = $$"""
        WITH expired AS MATERIALIZED (
            SELECT id, state, ((state = {{Completed}} AND $3) OR (state = {{Failed}} AND $4) OR (state = {{Cancelled}} AND $5))
                AND NOT {{OperatorCancelSql.KeptForInspection("h")}} AS remove
            FROM {s}.jobs h
            WHERE queue_name = $1 AND unique_key = $2 AND state IN ({{Completed}}, {{Failed}}, {{Cancelled}})
                AND coalesce(finished_at, updated_at) + coalesce(unique_for, interval '0') <= now()
            FOR UPDATE
        ),
        removed AS (
            DELETE FROM {s}.jobs j USING expired e WHERE j.id = e.id AND e.remove
        )
        UPDATE {s}.jobs j SET released_unique_key = j.unique_key, unique_key = NULL FROM expired e WHERE j.id = e.id AND NOT e.remove
        """;

    /// <summary>Rows one batch of <see cref="DropExpiredHolders"/> looks at.</summary>
    public const int ExpiredHoldersBatch = 1_000;

    /// <summary>
    /// Retention for finished unique jobs whose key is never pushed again (<see cref="Release"/> runs only at the next push
    /// of the key): deletes, among the <see cref="ExpiredHoldersBatch"/> ($3) oldest keyed rows of queue $1 in state $2 (one
    /// that retention drops), those whose hold is over. The rows are read in <c>jobs_queue_state_idx</c> order (oldest change
    /// first, where holds end first) and locked <c>SKIP LOCKED</c>, so a pass never waits for a push, an operator's action or
    /// another worker's pass (a row skipped is deleted by a later pass). A job an operator's cancel kept for inspection
    /// (<see cref="OperatorCancelSql.KeptForInspection"/>) is kept: its key is released as <see cref="Release"/> releases
    /// it, so it leaves the keyed rows (kept ones left keyed among the oldest would stop every later pass short of the rows
    /// behind them). Returns (rows looked at, rows deleted, rows released).
    /// </summary>
    public static readonly string DropExpiredHolders = $$"""
        WITH oldest AS MATERIALIZED (
            SELECT id FROM {s}.jobs
            WHERE queue_name = $1 AND state = $2 AND state NOT IN ({{Pending}}, {{Retrying}}) AND unique_key IS NOT NULL
            ORDER BY updated_at
            LIMIT $3
        ),
        expired AS MATERIALIZED (
            SELECT j.id, {{OperatorCancelSql.KeptForInspection("j")}} AS kept FROM {s}.jobs j
            WHERE j.id = ANY (ARRAY(SELECT id FROM oldest)) -- by primary key (IS TRUE keeps the rechecks out of the index choice)
                AND (j.queue_name = $1 AND j.state = $2 AND j.state IN ({{Completed}}, {{Failed}}, {{Cancelled}}) AND j.unique_key IS NOT NULL
                    AND coalesce(j.finished_at, j.updated_at) + coalesce(j.unique_for, interval '0') <= now()) IS TRUE
            ORDER BY j.id
            FOR UPDATE SKIP LOCKED
        ),
        removed AS (
            DELETE FROM {s}.jobs j USING expired e WHERE j.id = e.id AND NOT e.kept RETURNING 1
        ),
        released AS (
            UPDATE {s}.jobs j SET released_unique_key = j.unique_key, unique_key = NULL FROM expired e WHERE j.id = e.id AND e.kept RETURNING 1
        )
        SELECT (SELECT count(*) FROM oldest), (SELECT count(*) FROM removed), (SELECT count(*) FROM released)
        """;

    /// <summary>
    /// Stores one job unless key $10 is held in queue $1: parameters as <see cref="JobSql.Push"/>, then $10 key and
    /// $11 unique_for in ms, $12 concurrency key and $13 its limit (as <see cref="JobSql.Push"/>'s $10 and $11). Returns (id, true) when inserted (and notifies $9), else (holder's id, false); no row when
    /// the holder committed after this statement's snapshot was taken (the caller asks again).
    /// </summary>
    public static readonly string Push = PushOne(lockKey: true);

    /// <summary>
    /// <see cref="Push"/> in a batch, after <see cref="LockBatch"/> locked all the batch's concurrency keys: it takes no
    /// lock of its own (the key's own lock once per job held one entry each of the server's shared lock table to the
    /// commit, and a batch of thousands of keys, whose first statement locked their buckets, failed with "out of shared memory").
    /// </summary>
    public static readonly string PushLocked = PushOne(lockKey: false);

    private static string PushOne(bool lockKey) => $$"""
        WITH {{(lockKey ? ConcurrencyKeySql.LockKey("$1", "$12::text") : "key_locks AS (SELECT)")}},
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

    /// <summary>
    /// The first statement of a batch of unique pushes (one transaction): takes the locks of concurrency keys $2 (text
    /// array, nulls ignored) in key order, then, for queue $1, the locks of the buckets of unique keys $3 (one of 1,024 by
    /// the key's hash; a two-integer advisory lock, apart from the one-bigint locks of concurrency keys) in bucket order.
    /// Two batches sharing a key share its bucket, so one waits for the other's commit before it inserts anything of that
    /// key, and batches of the same keys in any order cannot deadlock on each other's uncommitted inserts. A batch holds at
    /// most 1,024 such locks, whatever its size: one lock per key took one entry each of the server's shared lock table,
    /// and a batch of more keys than it had free failed with "out of shared memory". (A single push holds one unique key
    /// and takes no bucket lock; a keyed one takes its concurrency key's lock first, as the batch does.)
    /// </summary>
    public static readonly string LockBatch = $"""
        WITH {ConcurrencyKeySql.LockKeys("$1", "unnest($2::text[])")},
        unique_locks AS MATERIALIZED (
            SELECT pg_advisory_xact_lock(hashtext('jobs.unique:' || $1), d.b) FROM (SELECT count(*) AS n FROM key_locks) l, LATERAL (
                SELECT DISTINCT (hashtextextended(t.k, 0) & 1023)::int AS b
                FROM unnest($3::text[]) AS t(k) WHERE t.k IS NOT NULL AND l.n >= 0 ORDER BY b) d
        )
        SELECT count(*) FROM unique_locks
        """;

    /// <summary>
    /// After a batch whose answer was lost turned out stored: of queue $1, the jobs among ids $2 and the holders of
    /// unique keys $3 (id, unique key, whether it is one of $2).
    /// </summary>
    public const string Holders = """
        SELECT id, unique_key, id = ANY($2) FROM {s}.jobs WHERE queue_name = $1 AND (id = ANY($2) OR unique_key = ANY($3))
        """;
}
