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
    /// CTEs over <paramref name="targets"/> (a CTE of the rows to put back, locked: <c>id</c>, <c>queue_name</c>,
    /// <c>unique_key</c>, <c>released_unique_key</c>): <see cref="Choose"/>'s, then <c>unkeyed</c>, which first releases
    /// the key of an expired holder. The statement joins <c>put_back</c>, sets the key with <see cref="SetKey"/> and reads
    /// <see cref="AfterUnkeyed"/> in its WHERE (so the holders' keys are gone before it writes). The holders are locked in
    /// id order first (<c>holders</c>), as an operator's delete of them locks them: the update locked them in the order
    /// its join read them (the keys' order, or the table's), so a retry and a delete of the expired holders deadlocked
    /// and PostgreSQL aborted one of the two. <c>holders</c> keeps only those still finished, holding a key, their hold
    /// over, once locked (its WHERE is re-checked on the row as it is when the lock is granted): a holder put back since
    /// the snapshot (retried, rerun) waits again holding its key, and the retry took it from it (two jobs of the key in
    /// line, one without its key). A claimant whose holder is not kept goes back only with <see cref="AfterUnkeyed"/>'s
    /// check, so it is left as it was.
    /// </summary>
    public static string PutBack(string targets) => Choose(targets) + $$"""
        ,
        holders AS MATERIALIZED (
            SELECT id FROM {s}.jobs
            WHERE id = ANY (ARRAY(SELECT expired FROM rekey)) -- by primary key (IS TRUE keeps the rechecks out of the index choice)
                AND (unique_key IS NOT NULL AND state IN ({{Completed}}, {{Failed}}, {{Cancelled}})
                    AND coalesce(finished_at, updated_at) + coalesce(unique_for, interval '0') <= now()) IS TRUE
            ORDER BY id FOR UPDATE
        ),
        unkeyed AS (
            UPDATE {s}.jobs h SET released_unique_key = h.unique_key, unique_key = NULL
            FROM holders l WHERE h.id = l.id
            RETURNING h.id
        )
        """;

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
