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
/// Places are handed out under a transaction-level advisory lock on (queue, key), so per key the order of places is the
/// order of commits: no claim can see a job whose place is before one it already let run.
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

    /// <summary>The advisory lock of key <paramref name="key"/> in queue <paramref name="queue"/> (SQL expressions).</summary>
    public static string Lock(string queue, string key) => $"pg_advisory_xact_lock(hashtextextended('jobs.key:' || {queue} || chr(31) || {key}, 0))";

    /// <summary>
    /// A CTE <c>key_locks</c> taking, in key order, the locks of the keys in <paramref name="keys"/> (a SQL expression
    /// yielding a set of keys, nulls ignored); an insert reads <c>(SELECT count(*) FROM key_locks)</c> before it asks
    /// the sequence, so places are handed out under the locks.
    /// </summary>
    public static string LockKeys(string queue, string keys) => $"""
        key_locks AS MATERIALIZED (
                SELECT {Lock(queue, "d.k")} FROM (SELECT DISTINCT k FROM {keys} AS t(k) WHERE k IS NOT NULL ORDER BY k) d
            )
        """;

    /// <summary>The place of a new row with key <paramref name="key"/>: null when unkeyed.</summary>
    public static string Place(string key) => $"CASE WHEN {key} IS NULL THEN NULL ELSE nextval('{{s}}.jobs_key_seq') END";

    /// <summary>
    /// In an UPDATE of <c>{s}.jobs</c> that puts finished rows back: a keyed row that was finished (the state before the
    /// update) gets a new place at the back of its line, under its key's lock; others keep theirs.
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
