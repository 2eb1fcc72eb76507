namespace Jobs.Sdk.Postgres;

/// <summary>
/// Admission of keyed jobs at push (migration 0011, column <c>key_admitted</c>): the claim's per-key gate
/// (<see cref="ConcurrencyKeySql.Gate"/>) counts a candidate's unfinished predecessors in its key's line, walking the
/// index entries of every job of the key before it that vacuum has not yet removed. A push already holds its key's lock
/// and can count the same predecessors once: when fewer than the job's limit are unfinished, the job is admitted for good
/// (<c>key_admitted = key_seq</c>), because nothing ever joins a line in front of a job (places are handed out in commit
/// order under the key's lock; a finished job put back takes a new place at the back). The gate then passes an admitted
/// candidate on a column test, reading nothing, whatever the limit and however many jobs the key ran before. A job
/// pushed behind a full line (a limit that binds) is not admitted and is gated by the count, as before.
/// <para>
/// The count needs a snapshot taken after the key's lock was granted (a push that waited for the lock must see the
/// pushes it waited for): the keyed pushes run after <see cref="Lock"/> as a second statement of the same transaction,
/// and admit only under READ COMMITTED (a REPEATABLE READ or SERIALIZABLE transaction keeps its first snapshot; its jobs
/// are pushed unadmitted). A place handed out by any other statement (a unique push, a schedule's fire, an operator's
/// retry, a cleanup rerun, code from before 0011) leaves <c>key_admitted</c> different from <c>key_seq</c>: not admitted.
/// </para>
/// </summary>
internal static class KeyAdmissionSql
{
    /// <summary>Takes the locks of keys $2 (text array, nulls ignored) in queue $1 (<see cref="ConcurrencyKeySql.LockKeys"/>); the statement before a keyed push.</summary>
    public static readonly string Lock = $"""
        WITH {ConcurrencyKeySql.LockKeys("$1", "unnest($2::text[])")}
        SELECT count(*) FROM key_locks
        """;

    /// <summary>
    /// <see cref="Lock"/> of one key $2 (text, not null) in queue $1: its bucket's lock shared, then its own
    /// (<see cref="ConcurrencyKeySql.Lock"/>), in one result node; the statement before a push of one keyed job.
    /// </summary>
    public static readonly string LockOne = $"SELECT {ConcurrencyKeySql.Lock("$1", "$2::text")}";

    /// <summary>
    /// Admission is decided only when the statement's snapshot was taken after the keys' locks (<see cref="Lock"/> ran
    /// before it in this transaction, and the transaction is READ COMMITTED, so each statement reads a fresh snapshot).
    /// </summary>
    private const string FreshSnapshot = "current_setting('transaction_isolation') = 'read committed'";

    /// <summary>
    /// A bound on the unfinished jobs of key <paramref name="key"/> in queue $1 (SQL expressions throughout), for
    /// <paramref name="rows"/> new rows whose smallest limit is <paramref name="minLimit"/> and largest <paramref name="cap"/>.
    /// First the key's last unfinished job (one entry read from the back of the line): none, and the line is empty; an
    /// admitted one carries its own bound (<c>key_rank</c>, unfinished jobs ahead of it when pushed, which can only have
    /// fallen since), so the line holds at most that plus one, which is used when it admits all the new rows. Otherwise
    /// the line is counted, up to <paramref name="cap"/> (a count that reaches it admits none of the rows).
    /// </summary>
    private static string Ahead(string key, string rows, string minLimit, string cap) => $$"""
        (SELECT CASE
                    WHEN last.key_seq IS NULL THEN 0
                    WHEN last.key_admitted = last.key_seq AND last.key_rank + {{rows}} < {{minLimit}} THEN last.key_rank + 1
                    ELSE (SELECT count(*) FROM (
                        SELECT 1 FROM {s}.jobs k
                        WHERE k.queue_name = $1 AND k.concurrency_key = {{key}} AND k.state IN ({{ConcurrencyKeySql.Unfinished}})
                        LIMIT {{cap}}) line) END
                FROM (SELECT 1) one LEFT JOIN LATERAL (
                    SELECT k.key_seq, k.key_admitted, k.key_rank FROM {s}.jobs k
                    WHERE k.queue_name = $1 AND k.concurrency_key = {{key}} AND k.state IN ({{ConcurrencyKeySql.Unfinished}})
                    ORDER BY k.key_seq DESC LIMIT 1) last ON true)
        """;

    /// <summary>
    /// <see cref="JobSql.Push"/> of a keyed job ($10 key, $11 limit), admitted when fewer than $11 jobs of its key are
    /// unfinished. Runs right after <see cref="LockOne"/> of its key in the same transaction (it takes no lock itself).
    /// </summary>
    public static readonly string Push = $$"""
        WITH placed AS MATERIALIZED (
            SELECT {{ConcurrencyKeySql.Place("$10::text")}} AS seq,
                CASE WHEN $10::text IS NOT NULL AND {{FreshSnapshot}} THEN {{Ahead("$10::text", "1", "$11", "$11")}} END AS ahead
        ),
        ins AS (
            INSERT INTO {s}.jobs (id, queue_name, name, payload, headers, priority, run_at, max_attempts, concurrency_key, concurrency_limit, key_seq, key_admitted, key_rank)
            SELECT $2, $1, $3, $4::jsonb, $5::jsonb, $6, coalesce($7, now()), $8, $10, $11, p.seq,
                CASE WHEN p.ahead < $11 THEN p.seq END, CASE WHEN p.ahead < $11 THEN p.ahead END
            FROM placed p
            RETURNING run_at
        )
        SELECT pg_notify($9, CASE WHEN min(run_at) <= now() THEN {{JobNotification.SqlDue}} ELSE {{JobNotification.SqlDueAt("min(run_at)")}} END)
        FROM ins HAVING count(*) > 0 AND $9::text IS NOT NULL
        """;

    /// <summary>
    /// <see cref="JobSql.PushMany"/> with keys: each keyed row is admitted when the unfinished jobs of its key (counted
    /// once per key, up to the largest limit of the key's rows) plus the rows of its key placed before it in this
    /// statement are fewer than its limit. Runs after <see cref="Lock"/> of all the batch's keys in the same transaction
    /// (it takes no lock itself: a batch of several statements would take the locks of its keys once more per statement).
    /// Rows are inserted in the order given (the window sorts them by key; the heap should hold them in push order, the
    /// order claims take them).
    /// </summary>
    public static readonly string PushMany = $$"""
        WITH r AS MATERIALIZED (
            SELECT r.*, {{ConcurrencyKeySql.Place("r.concurrency_key")}} AS seq
            FROM unnest($2::uuid[], $3::text[], $4::text[], $5::text[], $6::smallint[], $7::timestamptz[], $8::integer[], $10::text[], $11::integer[])
                WITH ORDINALITY AS r(id, name, payload, headers, priority, run_at, max_attempts, concurrency_key, concurrency_limit, ord)
        ),
        ahead AS MATERIALIZED (
            SELECT d.k, CASE WHEN {{FreshSnapshot}} THEN {{Ahead("d.k", "d.rows", "d.least", "d.cap")}} END AS n
            FROM (SELECT concurrency_key AS k, count(*) AS rows, min(concurrency_limit) AS least, max(concurrency_limit) AS cap
                  FROM r WHERE concurrency_key IS NOT NULL GROUP BY concurrency_key) d
        ),
        ranked AS (
            SELECT r.*, a.n + row_number() OVER (PARTITION BY r.concurrency_key ORDER BY r.seq) - 1 AS rank
            FROM r LEFT JOIN ahead a ON a.k = r.concurrency_key
        ),
        ins AS (
            INSERT INTO {s}.jobs (id, queue_name, name, payload, headers, priority, run_at, max_attempts, concurrency_key, concurrency_limit, key_seq,
                key_admitted, key_rank)
            SELECT r.id, $1, r.name, r.payload::jsonb, r.headers::jsonb, r.priority, coalesce(r.run_at, now()), r.max_attempts,
                r.concurrency_key, r.concurrency_limit, r.seq,
                CASE WHEN r.rank < r.concurrency_limit THEN r.seq END, CASE WHEN r.rank < r.concurrency_limit THEN r.rank END
            FROM ranked r
            ORDER BY r.ord
            RETURNING run_at
        )
        SELECT pg_notify($9, CASE WHEN min(run_at) <= now() THEN {{JobNotification.SqlDue}} ELSE {{JobNotification.SqlDueAt("min(run_at)")}} END)
        FROM ins HAVING count(*) > 0 AND $9::text IS NOT NULL
        """;

    /// <summary>
    /// Migration 0011: nullable columns (older code inserts NULL: not admitted, gated by the count; older claims ignore
    /// them and count, as they always did). <c>key_admitted</c>: the place (<c>key_seq</c>) at which the job was admitted;
    /// <c>key_rank</c>: how many unfinished jobs were ahead of it then (at most), which the next push of its key builds
    /// on. No index: the gate reads them from the candidate row.
    /// </summary>
    public const string Migration = """
        -- jobs:compatible-from 0002_create_schedule_fires
        ALTER TABLE {s}.jobs ADD COLUMN IF NOT EXISTS key_admitted bigint;
        ALTER TABLE {s}.jobs ADD COLUMN IF NOT EXISTS key_rank integer;
        """;

    /// <summary>The migration's name (provisional number: the lead renumbers on merge).</summary>
    public const string Name = "0012_key_admission";
}
