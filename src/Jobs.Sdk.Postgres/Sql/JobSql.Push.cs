
namespace Jobs.Sdk.Postgres;

// Pushes: one job, one unkeyed job, many jobs.
internal static partial class JobSql
{
    /// <summary>
    /// One job. $1 queue, $2 id, $3 name, $4 payload (json text), $5 headers (json text or null), $6 priority,
    /// $7 run_at (null = now on the database clock), $8 max_attempts, $9 channel, $10 concurrency key (null: none),
    /// $11 its limit. A keyed job takes its place in the key's line under the key's lock (<see cref="ConcurrencyKeySql"/>).
    /// One notification per statement: empty payload when the job is due now, <c>d:{unix ms}</c> when delayed.
    /// </summary>
    public static readonly string Push = $$"""
        WITH {{ConcurrencyKeySql.LockKey("$1", "$10::text")}},
        ins AS (
            INSERT INTO {s}.jobs (id, queue_name, name, payload, headers, priority, run_at, max_attempts, concurrency_key, concurrency_limit, key_seq)
            SELECT $2, $1, $3, $4::jsonb, $5::jsonb, $6, coalesce($7, now()), $8, $10, $11, {{ConcurrencyKeySql.Place("$10::text")}}
            FROM (SELECT count(*) FROM key_locks) l
            RETURNING run_at
        )
        SELECT pg_notify($9, CASE WHEN min(run_at) <= now() THEN {{JobNotification.SqlDue}} ELSE {{JobNotification.SqlDueAt("min(run_at)")}} END)
        FROM ins HAVING count(*) > 0 AND $9::text IS NOT NULL
        """;

    /// <summary>
    /// One unkeyed job, and nothing else: the common push (outside a caller's transaction, announced after its commit by
    /// the notifier). $1 queue, $2..$8 as in <see cref="Push"/>. A bare <c>INSERT … VALUES</c> is the cheapest statement
    /// PostgreSQL runs to store a row: <see cref="Push"/>'s key-lock CTE, its join and its notification test cost 7–10% of
    /// the server's CPU per pushed job even when no key is given (tests/Jobs.Sdk.Benchmarks/README.md, "Single pushes").
    /// </summary>
    public static readonly string PushPlain = """
        INSERT INTO {s}.jobs (id, queue_name, name, payload, headers, priority, run_at, max_attempts)
        VALUES ($2, $1, $3, $4::jsonb, $5::jsonb, $6, coalesce($7, now()), $8)
        """;

    /// <summary>
    /// Many jobs from arrays (no bind-parameter limit). $1 queue, $2..$8 arrays as in <see cref="Push"/>, $9 channel,
    /// $10 concurrency keys, $11 their limits (arrays; the keys' locks are taken in key order, so concurrent pushes of
    /// overlapping keys cannot deadlock).
    /// </summary>
    public static readonly string PushMany = $$"""
        WITH {{ConcurrencyKeySql.LockKeys("$1", "unnest($10::text[])")}},
        ins AS (
            INSERT INTO {s}.jobs (id, queue_name, name, payload, headers, priority, run_at, max_attempts, concurrency_key, concurrency_limit, key_seq)
            SELECT r.id, $1, r.name, r.payload::jsonb, r.headers::jsonb, r.priority, coalesce(r.run_at, now()), r.max_attempts,
                r.concurrency_key, r.concurrency_limit, {{ConcurrencyKeySql.Place("r.concurrency_key")}}
            FROM (SELECT count(*) FROM key_locks) l,
                unnest($2::uuid[], $3::text[], $4::text[], $5::text[], $6::smallint[], $7::timestamptz[], $8::integer[], $10::text[], $11::integer[])
                AS r(id, name, payload, headers, priority, run_at, max_attempts, concurrency_key, concurrency_limit)
            RETURNING run_at
        )
        SELECT pg_notify($9, CASE WHEN min(run_at) <= now() THEN {{JobNotification.SqlDue}} ELSE {{JobNotification.SqlDueAt("min(run_at)")}} END)
        FROM ins HAVING count(*) > 0 AND $9::text IS NOT NULL
        """;
}
