using static Jobs.Sdk.Postgres.SqlCodes;

namespace Jobs.Sdk.Postgres;

/// <summary>
/// Per-key concurrency (<c>[Job(ConcurrencyLimit = n)]</c>, <c>[ConcurrencyKey]</c>): a keyed row carries its key, its
/// limit and its place in the key's line (<c>key_seq</c>, from the sequence <c>jobs_key_seq</c>, set only for keyed rows).
/// The claim's gate (<see cref="Gate"/>): a keyed candidate is claimable only while fewer than its limit of
/// unfinished jobs (pending, processing, retrying, paused) of its (queue, key) come before it in the line; a job that
/// found room when it was pushed carries that fact (<see cref="KeyAdmissionSql"/>) and is not counted again. So at most
/// <c>limit</c> run at once and they start in push order; a job waiting for a retry keeps its place (and its slot). A
/// finished job put back (admin retry, cleanup rerun) takes a new place at the back of the line (<see cref="NewPlace"/>).
/// Places are handed out under transaction-level advisory locks that exclude every other push of (queue, key) (its own
/// lock, or its bucket's for a batch of many keys: <see cref="LockKeys"/>), so per key the order of places is the order of
/// commits: no claim can see a job whose place is before one it already let run.
/// </summary>
internal static class ConcurrencyKeySql
{
    /// <summary>The unfinished states: the ones that hold a place in a key's line.</summary>
    public static readonly string Unfinished = $"{Pending}, {Processing}, {Retrying}, {Paused}";

    /// <summary>
    /// The claim's predicate on candidate row <paramref name="row"/> of queue <paramref name="queue"/>: true for unkeyed
    /// rows and for rows admitted at push (<see cref="KeyAdmissionSql"/>; no subquery runs for either), else one probe of
    /// <c>jobs_concurrency_key_idx</c> reading at most the limit's live entries (and the dead ones among them).
    /// </summary>
    public static string Gate(string row, string queue) => $$"""
        ({{row}}.concurrency_key IS NULL OR {{row}}.key_admitted = {{row}}.key_seq OR (
                        SELECT count(*) FROM (
                            SELECT 1 FROM {s}.jobs k
                            WHERE k.queue_name = {{queue}} AND k.concurrency_key = {{row}}.concurrency_key AND k.key_seq < {{row}}.key_seq
                                AND k.state IN ({{Unfinished}})
                            LIMIT {{row}}.concurrency_limit) ahead) < {{row}}.concurrency_limit)
        """;

    /// <summary>
    /// Distinct keys above which a statement locks its keys' buckets (<see cref="LockKeys"/>) instead of each key: locks
    /// held to the commit take one entry each of the server's shared lock table (6,400 on a default server, for every
    /// session), and a batch of more keys than it had free failed with "out of shared memory". PostgreSQL's default
    /// <c>max_locks_per_transaction</c>: the entries the table is sized for per transaction.
    /// </summary>
    public const int BucketedAbove = 64;

    /// <summary>The bucket (of 1,024) of key <paramref name="key"/> (a SQL expression).</summary>
    private static string Bucket(string key) => $"(hashtextextended({key}, 0) & 1023)::int";

    /// <summary>
    /// The lock of bucket <paramref name="bucket"/> of queue <paramref name="queue"/> (SQL expressions): a two-integer
    /// advisory lock, apart from the one-bigint locks of keys and from the unique keys' buckets (<c>jobs.unique:</c>).
    /// </summary>
    private static string BucketLock(string queue, string bucket, bool exclusive) =>
        $"pg_advisory_xact_lock{(exclusive ? "" : "_shared")}(hashtext('jobs.keys:' || {queue}), {bucket})";

    /// <summary>The advisory lock of key <paramref name="key"/> alone (what code before the buckets takes, and still does).</summary>
    private static string KeyLock(string queue, string key) => $"pg_advisory_xact_lock(hashtextextended('jobs.key:' || {queue} || chr(31) || {key}, 0))";

    /// <summary>
    /// The lock of key <paramref name="key"/> in queue <paramref name="queue"/> (SQL expressions; one row value): its
    /// bucket's lock shared, then the key's own lock. A statement holding the bucket exclusively (a batch of many keys,
    /// <see cref="LockKeys"/>) excludes it as the key's own lock excludes another push of the key.
    /// </summary>
    public static string Lock(string queue, string key) => $"ROW({BucketLock(queue, Bucket(key), exclusive: false)}, {KeyLock(queue, key)})";

    /// <summary>
    /// A CTE <c>key_locks</c> taking the lock of the one key <paramref name="key"/> (a SQL expression; none when null) as
    /// <see cref="Lock"/> does: its bucket's lock shared, then its own. The form of a statement that pushes one job: a plan
    /// of one result node, where <see cref="LockKeys"/> of one key sorted and counted a set in four CTEs (twice the time).
    /// </summary>
    public static string LockKey(string queue, string key) => $"""
        key_locks AS MATERIALIZED (
                SELECT {Lock(queue, key)} WHERE {key} IS NOT NULL
            )
        """;

    /// <summary>
    /// A CTE <c>key_locks</c> (after helper CTEs) taking the locks of the keys in <paramref name="keys"/> (a SQL expression
    /// yielding a set of keys, nulls ignored) of the one queue <paramref name="queue"/>; an insert reads
    /// <c>(SELECT count(*) FROM key_locks)</c> before it asks the sequence, so places are handed out under the locks.
    /// <see cref="KeyLocks"/> bucketed: up to <see cref="BucketedAbove"/> distinct keys, their buckets' locks shared, in
    /// bucket order, then each key's own lock, in key order (as <see cref="Lock"/>); more, their buckets' locks exclusive,
    /// in bucket order (at most 1,024 locks, however many keys), and no key's own lock.
    /// </summary>
    public static string LockKeys(string queue, string keys) => KeyLocks(keys, bucketed: true, queue);

    /// <summary>
    /// A CTE <c>key_locks</c> (after helper CTEs) taking the locks of the (queue, key) pairs of <paramref name="pairs"/> (a
    /// SQL expression yielding rows of two columns, queue and key; null keys ignored), as a statement that puts finished
    /// jobs back takes them before it hands out places (<see cref="NewPlace"/>): <see cref="KeyLocks"/>, never bucketed.
    /// Taken row by row (a row's bucket, then its key), a retry held a bucket a batch of many keys had still to take while
    /// it waited for one that batch held, and PostgreSQL aborted one of the two (40P01).
    /// </summary>
    public static string LockPairs(string pairs) => KeyLocks(pairs, bucketed: false);

    /// <summary>
    /// The one builder of the key-lock CTEs (<c>key_list</c>, then <c>key_locks</c> after helpers) over the distinct
    /// (queue, key) pairs of <paramref name="pairs"/> (rows of two columns, queue and key; null keys ignored), or, given
    /// the one <paramref name="queue"/> (a SQL expression), over its keys in <paramref name="pairs"/> (rows of one column):
    /// their buckets' locks shared, in (queue, bucket) order, then each key's own lock, in (queue, key) order. When
    /// <paramref name="bucketed"/> and there are more than <see cref="BucketedAbove"/> pairs: their buckets' locks
    /// exclusive, in the same order, and no key's own lock. Every statement takes bucket locks before key locks, each in
    /// this one order (a single push's <see cref="Lock"/> is one bucket, then its key), so no two of them wait for each
    /// other in opposite orders: a batch push, an operator's retry and a cleanup rerun deadlocked (40P01) when one did not.
    /// The one queue is not made a column of the pairs: sorted by a constant text column too, for the same order, a batch
    /// of 256 keys spent a text comparison per step of its sort (its lock statement: 0.59 ms, not 0.36, median of 5 runs).
    /// </summary>
    private static string KeyLocks(string pairs, bool bucketed, string? queue = null)
    {
        var q = queue is null ? "q, " : ""; // the queue column, sorted first, when the pairs are of several queues
        var lockQueue = queue ?? "d.q";
        var mode = bucketed ? "key_mode m, " : "";
        var modeList = bucketed ? $"key_mode AS MATERIALIZED (\n        SELECT count(*) > {BucketedAbove} AS bucketed FROM key_list\n    ),\n    " : "";
        var bucketLock = bucketed
            ? $"CASE WHEN m.bucketed THEN {BucketLock(lockQueue, "d.b", exclusive: true)} ELSE {BucketLock(lockQueue, "d.b", exclusive: false)} END"
            : BucketLock(lockQueue, "d.b", exclusive: false);
        var keyed = bucketed ? "NOT m.bucketed AND " : "";
        return $"""
            key_list AS MATERIALIZED (
                    SELECT DISTINCT {q}k FROM {pairs} AS t({q}k) WHERE k IS NOT NULL
                ),
                {modeList}bucket_locks AS MATERIALIZED (
                    SELECT {bucketLock} FROM {mode}(SELECT DISTINCT {q}{Bucket("k")} AS b FROM key_list ORDER BY {q}b) d
                ),
                key_locks AS MATERIALIZED (
                    SELECT {KeyLock(lockQueue, "d.k")} FROM {mode}(SELECT count(*) AS n FROM bucket_locks) l, LATERAL (
                        SELECT {q}k FROM key_list WHERE {keyed}l.n >= 0 ORDER BY {q}k) d
                )
            """;
    }

    /// <summary>The place of a new row with key <paramref name="key"/>: null when unkeyed.</summary>
    public static string Place(string key) => $"CASE WHEN {key} IS NULL THEN NULL ELSE nextval('{{s}}.jobs_key_seq') END";

    /// <summary>
    /// In an UPDATE of <c>{s}.jobs</c> that puts finished rows back: a keyed row that was finished (the state before the
    /// update) gets a new place at the back of its line, under its key's lock; others keep theirs. The statement takes the
    /// locks of all its rows' keys first, in one order (<see cref="LockPairs"/>), so the row's own lock finds them held.
    /// </summary>
    public static readonly string NewPlace = $$"""
        CASE WHEN concurrency_key IS NOT NULL AND state NOT IN ({{Unfinished}})
                THEN (SELECT nextval('{s}.jobs_key_seq') FROM (SELECT {{Lock("queue_name", "concurrency_key")}} OFFSET 0) l)
                ELSE key_seq END
        """;

    /// <summary>
    /// Migration 0009: the key columns (nullable, so older code inserts unkeyed rows and keeps running), the sequence,
    /// and the gate's partial index, which holds unfinished keyed rows only (unkeyed pushes never touch it).
    /// </summary>
    public const string Migration = """
        -- jobs:compatible-from 0002_create_schedule_fires
        ALTER TABLE {s}.jobs ADD COLUMN IF NOT EXISTS concurrency_key text;
        ALTER TABLE {s}.jobs ADD COLUMN IF NOT EXISTS concurrency_limit integer;
        ALTER TABLE {s}.jobs ADD COLUMN IF NOT EXISTS key_seq bigint;
        CREATE SEQUENCE IF NOT EXISTS {s}.jobs_key_seq;
        CREATE INDEX IF NOT EXISTS jobs_concurrency_key_idx ON {s}.jobs (queue_name, concurrency_key, key_seq)
            WHERE concurrency_key IS NOT NULL AND state IN (0, 1, 2, 6);
        """;
}
