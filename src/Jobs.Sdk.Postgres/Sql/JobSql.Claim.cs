using static Jobs.Sdk.Postgres.SqlCodes;

namespace Jobs.Sdk.Postgres;

// Claims: taking due jobs (with or without a queue-wide limit), and giving back a claim whose reply was lost.
internal static partial class JobSql
{
    /// <summary>
    /// Claims up to $2 due jobs of queue $1 for worker $3 with a lease of $4 ms, only of names $5 (null: any name), in claim order (priority, then run time,
    /// then id). The candidates are read one priority at a time, highest first: for each, a range scan of
    /// <c>jobs_runnable_idx</c> bounded by <c>priority = p AND run_at &lt;= now()</c>, so jobs not yet due (at any
    /// priority) are never read, and an idle poll costs one index descent per priority however many jobs are delayed.
    /// The outer LIMIT stops the loop, and rows are locked only as they are taken (SKIP LOCKED keeps concurrent claimers
    /// apart). The MATERIALIZED CTE evaluates the LIMIT once (no nested-loop re-execution).
    /// The first $6 jobs in claim order (null: all) start now (started_at = now()); the rest are claimed not started
    /// (started_at NULL, a prefetch buffer). Returns each row's place in claim order last: <c>next</c> emits its rows in
    /// claim order, and numbering them as they come needs no sort (the worker hands jobs to runners in that order, so the
    /// first $6 are the ones started). A keyed candidate (<c>concurrency_key</c>) must also pass its key's gate
    /// (<see cref="ConcurrencyKeySql.Gate"/>); for unkeyed rows the gate is a null test.
    /// The taken rows reach the UPDATE as the array of the row versions <c>next</c> locked (their <c>ctid</c>), unnested
    /// WITH ORDINALITY (the place): the planner sizes an unnested array expression at 10 rows, so the UPDATE fetches each
    /// row by its address (a Tid Scan) and never descends the primary key again. Joined to <c>next</c> directly (estimated
    /// from <c>LIMIT $2</c>), a claim of a few hundred rows in a table of a few thousand was planned as a hash join over a
    /// sequential scan of the whole table, once per claim. The version <c>next</c> locked is the newest one; in the rare
    /// case that it was committed after the statement's snapshot (a concurrent change that left the job due), the UPDATE
    /// cannot see it and leaves that job pending for the next claim (fewer rows claimed, none lost).
    /// The new lease tokens derive from $7, a random uuid the caller draws for this claim: each row's token is $7 with
    /// its last four bytes replaced by the row's place, so the tokens of one claim differ from each other and, by the 96
    /// random bits, from every other claim's. The server draws no random number per claimed row
    /// (<c>gen_random_uuid()</c> per row was about 8% of the claim's server work). After the place: how long each job had
    /// been due, on the database clock (<see cref="Jobs.Sdk.Drivers.ClaimedJob.DueFor"/>).
    /// </summary>
    public static readonly string Claim = $$"""
        WITH next AS MATERIALIZED (
            SELECT c.ctid
            FROM unnest('{{ClaimPriorities}}'::smallint[]) AS p(priority)
            CROSS JOIN LATERAL (
                SELECT w.ctid FROM {s}.jobs w
                WHERE w.queue_name = $1 AND w.state IN ({{Pending}}, {{Retrying}}) AND w.priority = p.priority AND w.run_at <= now()
                    AND ($5::text[] IS NULL OR w.name = ANY($5))
                    AND NOT EXISTS (SELECT 1 FROM {s}.queues q WHERE q.name = $1 AND q.paused)
                    AND {{ConcurrencyKeySql.Gate("w", "$1")}}
                ORDER BY w.run_at, w.id
                LIMIT $2
                FOR UPDATE OF w SKIP LOCKED
            ) c
            LIMIT $2
        ),
        ranked AS (
            SELECT r.tid, r.place FROM unnest(ARRAY(SELECT ctid FROM next)) WITH ORDINALITY AS r(tid, place)
        )
        UPDATE {s}.jobs AS j
        SET state = {{Processing}}, attempts = j.attempts + 1, worker_id = $3,
            lease_expires_at = now() + $4 * interval '1 millisecond',
            started_at = CASE WHEN $6::integer IS NULL OR ranked.place <= $6 THEN now() END,
            updated_at = now(), cancel_requested = false, paused_from = NULL,
            lease_token = encode(overlay(uuid_send($7::uuid) PLACING int4send(ranked.place::integer) FROM 13 FOR 4), 'hex')::uuid
        FROM ranked
        WHERE j.ctid = ranked.tid
        RETURNING j.id, j.name, j.payload::text, j.attempts, j.max_attempts, j.priority, j.created_at, j.run_at, j.headers::text, j.lease_token, ranked.place,
            now() - greatest(j.run_at, j.created_at)
        """;

    /// <summary>
    /// <see cref="Claim"/> under a cluster-wide limit of $8 jobs processing in queue $1 (<c>GlobalConcurrency</c>): takes
    /// at most $8 minus the queue's processing rows (claimed by live workers, or by dead ones until their leases are
    /// rescued). Runs right after <see cref="LockQueueClaims"/> in the same transaction, so limited claims of one queue
    /// take turns and each counts what the previous one committed. The count reads <c>jobs_queue_state_idx</c> (at most
    /// $8 rows of the queue are processing).
    /// </summary>
    public static readonly string ClaimWithinLimit = Claim
        .Replace("WITH next AS MATERIALIZED (", $$"""
            WITH room AS MATERIALIZED (
                SELECT least($2, greatest($8 - (SELECT count(*) FROM {s}.jobs WHERE queue_name = $1 AND state = {{Processing}}), 0))::integer AS n
            ),
            next AS MATERIALIZED (
            """, StringComparison.Ordinal)
        .Replace("LIMIT $2", "LIMIT (SELECT n FROM room)", StringComparison.Ordinal);

    /// <summary>
    /// Gives back the jobs of queue $1 that worker $2 holds under lease tokens $3 (a claim whose reply was lost: its
    /// handlers never started): pending again, the attempt the claim added given back. A job whose cancel was requested
    /// since is left to the lease rescue, which ends it cancelled.
    /// </summary>
    public static readonly string ReleaseLostClaim = $$"""
        UPDATE {s}.jobs SET state = {{Pending}}, attempts = greatest(attempts - 1, 0), started_at = NULL,
            lease_expires_at = NULL, lease_token = NULL, updated_at = now()
        WHERE queue_name = $1 AND state = {{Processing}} AND worker_id = $2 AND lease_token = ANY($3::uuid[]) AND NOT cancel_requested
        """;

    /// <summary>Serializes the limited claims of queue $1 (a transaction-level advisory lock on the schema and queue).</summary>
    public const string LockQueueClaims = "SELECT pg_advisory_xact_lock(hashtextextended('jobs.claim:' || $1, 0))";
}
