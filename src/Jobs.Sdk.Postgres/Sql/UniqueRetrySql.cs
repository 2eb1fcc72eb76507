using static Jobs.Sdk.Postgres.SqlCodes;

namespace Jobs.Sdk.Postgres;

/// <summary>
/// Putting finished unique jobs back (an operator's retry, a cleanup rerun) without breaking the unique promise: at most
/// one job of a key waiting or running. A finished job that released its key (<see cref="UniqueJobSql.Release"/>, when
/// the next push of the key came after its hold) remembers it in <c>released_unique_key</c> (migration
/// <see cref="Name"/>). Put back, it takes the key again when no other job holds it (an expired holder releases it
/// first), and is left as it was when one does (its work is already in line), as a push of the key would store nothing.
/// Of several such jobs of one key put back together, the first by id takes it.
/// </summary>
internal static class UniqueRetrySql
{
    /// <summary>The migration's name (provisional number: the lead renumbers on merge).</summary>
    public const string Name = "0014_released_unique_keys";

    /// <summary>
    /// Migration 0014: a nullable column (older code ignores it: its release clears the key without remembering it, and its
    /// retry puts such a job back without a key, as it always did).
    /// </summary>
    public const string Migration = """
        -- jobs:compatible-from 0002_create_schedule_fires
        ALTER TABLE {s}.jobs ADD COLUMN IF NOT EXISTS released_unique_key text;
        """;

    /// <summary>
    /// CTEs over <paramref name="snapshot"/> (a CTE of the rows to put back as the statement's snapshot sees them, not
    /// locked: <c>id</c>, <c>queue_name</c>, <c>unique_key</c>, <c>released_unique_key</c>): <c>locked</c> locks them and
    /// their keys' expired holders together, in id order, as an operator's delete and a worker's outcome batch lock rows:
    /// locked in two steps (the rows, then the holders), a retry of a job whose holder has the lower id deadlocked with a
    /// delete of both, and PostgreSQL aborted one of the two. Then <c>targets</c>, the rows still to put back once locked
    /// (<paramref name="recheck"/>, SQL over <c>locked</c>'s columns, is the caller's WHERE re-checked on the locked row),
    /// <see cref="Choose"/>'s CTEs over it, <c>holders</c> and <c>unkeyed</c>, which releases the key of an expired holder.
    /// The statement joins <c>put_back</c>, sets the key with <see cref="SetKey"/> and reads <see cref="AfterUnkeyed"/> in
    /// its WHERE (so the holders' keys are gone before it writes). <c>holders</c> keeps only those locked and still
    /// finished, holding a key, their hold over (the row as it is when the lock was granted): a holder put back since the
    /// snapshot (retried, rerun) waits again holding its key, and the retry took it from it (two jobs of the key in line,
    /// one without its key). A claimant whose holder is not kept goes back only with <see cref="AfterUnkeyed"/>'s check,
    /// so it is left as it was.
    /// </summary>
    /// <remarks>
    /// <c>lockable</c> says of each row whether it is one of <paramref name="snapshot"/>'s (<c>own</c>), and <c>locked</c>
    /// carries that with each row it locks, one row at a time by id (in <c>lockable</c>'s id order), so no step matches
    /// the locked rows to the snapshot's: matched by a join of the two, each estimated at a row or two, the plan compared
    /// every locked row with every snapshot row (a cleanup rerun's batch of 5,000: 12,497,500 comparisons, seconds with the
    /// rows locked).
    /// </remarks>
    public static string PutBack(string snapshot, string recheck) => $$"""
        lockable AS MATERIALIZED (
            SELECT id, bool_or(own) AS own FROM (
                SELECT id, true AS own FROM {{snapshot}}
                UNION ALL
                SELECT h.id, false FROM {{snapshot}} t
                JOIN {s}.jobs h ON h.queue_name = t.queue_name AND h.unique_key = t.released_unique_key AND h.unique_key IS NOT NULL -- (the partial unique index)
                WHERE t.unique_key IS NULL AND {{Expired("h")}}
            ) u
            GROUP BY id
            ORDER BY id
        ),
        locked AS MATERIALIZED (
            SELECT r.*, l.own FROM lockable l, LATERAL (
                SELECT id, queue_name, state, unique_key, released_unique_key, finished_at, updated_at, unique_for, concurrency_key FROM {s}.jobs j
                WHERE j.id = l.id
                FOR UPDATE
            ) r
        ),
        targets AS MATERIALIZED (
            SELECT id, queue_name, unique_key, released_unique_key FROM locked
            WHERE own AND {{recheck}}
        ),
        {{Choose("targets")}},
        holders AS MATERIALIZED (
            SELECT id FROM locked l
            WHERE id IN (SELECT expired FROM rekey) AND l.unique_key IS NOT NULL AND {{Expired("l")}}
        ),
        unkeyed AS (
            UPDATE {s}.jobs h SET released_unique_key = h.unique_key, unique_key = NULL
            FROM holders l WHERE h.id = l.id
            RETURNING h.id
        )
        """;

    /// <summary>
    /// After <see cref="PutBack"/>: a CTE <c>key_locks</c> (<see cref="ConcurrencyKeySql.LockPairs"/>) taking the locks of
    /// the concurrency keys of the finished rows that may go back (the snapshot's rows, as locked), each of which takes a
    /// new place in its key's line (<see cref="ConcurrencyKeySql.NewPlace"/>); a row that then stays as it was took its
    /// key's lock too (read from the locked rows alone: matched to <c>put_back</c>, each estimated at a row or two, the plan
    /// compared every row with every other). The statement reads <c>(SELECT count(*) FROM key_locks)</c> in its WHERE, so
    /// the locks are taken before its first place.
    /// </summary>
    public static readonly string LockPutBackKeys = ConcurrencyKeySql.LockPairs($$"""
        (SELECT l.queue_name, l.concurrency_key FROM locked l
                WHERE l.own AND l.concurrency_key IS NOT NULL AND l.state NOT IN ({{ConcurrencyKeySql.Unfinished}}))
        """);

    /// <summary>Row <paramref name="h"/> is finished and its hold is over: its key may go to a job put back.</summary>
    private static string Expired(string h) =>
        $"{h}.state IN ({Completed}, {Failed}, {Cancelled}) AND coalesce({h}.finished_at, {h}.updated_at) + coalesce({h}.unique_for, interval '0') <= now()";

    /// <summary>
    /// The read-only CTEs over <paramref name="targets"/> that decide which rows go back (an operator's retry and its dry
    /// run share them): <c>put_back</c> (<c>put_id</c>, <c>put_key</c>, <c>put_holder</c>) holds the rows that may go back,
    /// with the released key each takes again (null: it keeps its own, or never had one) and that key's expired holder
    /// (null: none); <c>rekey</c> names the expired holder of each key
    /// taken again (<c>expired</c>, null: none), whose key <see cref="PutBack"/>'s <c>unkeyed</c> releases.
    /// </summary>
    public static string Choose(string targets) => $$"""
        claimant AS MATERIALIZED (
            SELECT DISTINCT ON (t.queue_name, t.released_unique_key) t.id, t.queue_name, t.released_unique_key AS k
            FROM {{targets}} t
            WHERE t.unique_key IS NULL AND t.released_unique_key IS NOT NULL
                AND NOT EXISTS (SELECT 1 FROM {{targets}} o WHERE o.queue_name = t.queue_name AND o.unique_key = t.released_unique_key)
            ORDER BY t.queue_name, t.released_unique_key, t.id
        ),
        rekey AS MATERIALIZED (
            SELECT c.id, c.k, h.id AS expired FROM claimant c
            LEFT JOIN {s}.jobs h ON h.queue_name = c.queue_name AND h.unique_key = c.k AND h.unique_key IS NOT NULL -- (the partial unique index)
            WHERE h.id IS NULL OR (h.state IN ({{Completed}}, {{Failed}}, {{Cancelled}})
                AND coalesce(h.finished_at, h.updated_at) + coalesce(h.unique_for, interval '0') <= now())
        ),
        put_back AS MATERIALIZED (
            SELECT t.id AS put_id, r.k AS put_key, r.expired AS put_holder FROM {{targets}} t LEFT JOIN rekey r ON r.id = t.id
            WHERE t.unique_key IS NOT NULL OR t.released_unique_key IS NULL OR r.id IS NOT NULL
        )
        """;

    /// <summary>
    /// In the WHERE of the statement that puts rows back (<paramref name="p"/>: its <c>put_back</c> row): evaluated before
    /// its first write (the expired holders' keys released first), and true only for a row whose key's expired holder, if
    /// any, was released (one put back since the snapshot keeps its key: the row is left as it was).
    /// </summary>
    public static string AfterUnkeyed(string p) =>
        $"(SELECT count(*) FROM unkeyed) >= 0 AND ({p}.put_holder IS NULL OR {p}.put_holder IN (SELECT id FROM unkeyed))";

    /// <summary>The SET items that give row <paramref name="j"/> its key back (from <c>put_back</c> row <paramref name="p"/>).</summary>
    public static string SetKey(string j, string p) =>
        $"unique_key = coalesce({p}.put_key, {j}.unique_key), released_unique_key = CASE WHEN {p}.put_key IS NULL THEN {j}.released_unique_key END";
}
