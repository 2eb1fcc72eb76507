using static Jobs.Sdk.Postgres.SqlCodes;

namespace Jobs.Sdk.Postgres;

/// <summary>
/// SQL on <c>{s}.jobs</c>, named after the driver methods. <c>{s}</c> is the quoted schema, substituted once when the
/// driver is built. Every value is a positional parameter. State and outcome codes come from <see cref="JobState"/> and
/// <see cref="JobOutcomeKind"/> (through <see cref="SqlCodes"/>), notification payloads from <see cref="JobNotification"/>.
/// The notification channel parameter is NULL in poll-only mode (no NOTIFY is sent).
/// </summary>
internal static class JobSql
{
    /// <summary>How many attempt errors a job keeps in <c>errors</c>.</summary>
    public const int MaxErrors = 20;

    /// <summary>
    /// In <see cref="Complete"/>'s <c>owned</c>: the job's cancel was requested and the outcome would requeue it or fail it
    /// (only success ends a cancel-requested job otherwise than cancelled).
    /// </summary>
    private static readonly string StickyCancel = $"j.cancel_requested AND o.kind IN ({OutcomeRetry}, {OutcomeReschedule}, {OutcomeRelease}, {OutcomeFailed})";

    /// <summary>
    /// Whether row <paramref name="row"/> (processing) is a running job an operator deleted (<see cref="AdminSql.Delete"/>,
    /// migration 0017): it kept its row, and so its slots in its key's line and its queue's global count, until its attempt
    /// ended; whatever the outcome (or a lease rescue), the row is deleted. The delete sets both flags; only
    /// <c>cancel_requested</c> is cleared by every writer, so a flag code from before 0017 left on a row it finished and put
    /// back (its retry does not know the column) never deletes a later run.
    /// </summary>
    private static string Deleting(string row) => $"({row}.delete_requested AND {row}.cancel_requested)";

    /// <summary>
    /// Locks, one by one in id order, the rows of the argument rows <paramref name="args"/> (columns id, lease_token, sorted
    /// by id) that worker <paramref name="worker"/> still holds in queue <paramref name="queue"/>, and yields their
    /// <c>cancel_requested</c>. The lookup is a LATERAL subquery by primary key only: its FOR UPDATE keeps it a
    /// parameterized index lookup per argument row (never flattened into a join the planner could turn around), its LIMIT
    /// keeps the ownership test out of it (no qual is pushed down to tempt another index), and that test runs on the
    /// locked row version. Any plan that scanned the processing rows (the planner's choice
    /// whenever the statistics predate the claims) or re-read the argument arrays per row cost seconds per batch once the
    /// statement was prepared.
    /// </summary>
    private static string LockClaimed(string args, string queue, string worker) => $$"""
        {{args}} CROSS JOIN LATERAL (
                SELECT j.queue_name, j.state, j.worker_id, j.lease_token, j.cancel_requested, j.delete_requested, j.unique_key, j.unique_for FROM {s}.jobs j WHERE j.id = {{args}}.id LIMIT 1 FOR UPDATE
            ) j
            WHERE j.queue_name = {{queue}} AND j.state = {{Processing}} AND j.worker_id = {{worker}} AND j.lease_token = {{args}}.lease_token
        """;

    private const string LeaseExpiredError = """
        'Jobs.Sdk.LeaseExpired: worker ' || coalesce(j.worker_id, '?')
                    || ' stopped renewing the lease of attempt ' || j.attempts || ' of ' || j.max_attempts || '.'
        """;

    /// <summary>
    /// <c>j.errors</c> with {attempt, at, error} appended (and <c>stack</c>, the stack trace, when <paramref name="stack"/>
    /// is given and not null), keeping the latest <see cref="MaxErrors"/> (oldest first).
    /// </summary>
    private static string AppendError(string attempt, string error, string? stack = null) => $"""
        (SELECT jsonb_agg(x.e ORDER BY x.n) FROM (
                    SELECT e, n FROM jsonb_array_elements(coalesce(j.errors, '[]'::jsonb)
                        || jsonb_build_array(jsonb_build_object('attempt', {attempt}, 'at', now(), 'error', left({error}, 8000)){StackEntry(stack)}))
                        WITH ORDINALITY AS a(e, n)
                    ORDER BY n DESC LIMIT {MaxErrors}) x)
        """;

    private static string StackEntry(string? stack) => stack is null
        ? ""
        : $" || CASE WHEN {stack} IS NULL THEN '{{}}'::jsonb ELSE jsonb_build_object('stack', left({stack}, 8000)) END";

    /// <summary>
    /// One job. $1 queue, $2 id, $3 name, $4 payload (json text), $5 headers (json text or null), $6 priority,
    /// $7 run_at (null = now on the database clock), $8 max_attempts, $9 channel, $10 concurrency key (null: none),
    /// $11 its limit. A keyed job takes its place in the key's line under the key's lock (<see cref="ConcurrencyKeySql"/>).
    /// One notification per statement: empty payload when the job is due now, <c>d:{unix ms}</c> when delayed.
    /// </summary>
    public static readonly string Push = $$"""
        WITH {{ConcurrencyKeySql.LockKeys("$1", "(VALUES ($10::text))")}},
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

    /// <summary>
    /// Records a batch of outcomes of worker $2 in queue $1, only for rows whose claim it still holds (processing, same
    /// lease token $12): replaying a batch, or a late report of an earlier claim, changes nothing. Arrays: $3 id,
    /// $4 attempt, $5 kind (<see cref="JobOutcomeKind"/>), $6 delay ms, $7 next attempt, $8 error, $9 remove (retention),
    /// $12 lease token, $13 stack trace (null: none), $14 run at (a reschedule to a time, null: $6 from now; a time past on
    /// the database clock means now). $10 channel: one notification when a requeued job is due now. $11 remove cancelled (retention).
    /// Rows are found and locked one by one through the primary key, in id order (<see cref="LockClaimed"/>), the one lock
    /// order of every statement that locks claimed rows. Cancel is sticky: a retry, reschedule, release or failure of a job whose cancel was requested ends it
    /// cancelled. Success clears last_error; each error is appended to the bounded per-attempt history in <c>errors</c>.
    /// The third column counts the keyed jobs (<c>concurrency_key</c>) among them: the next job of such a key may be
    /// claimable now, so the worker wakes its own claim loop (it just freed the slot; no notification, no probe).
    /// A unique job whose key holds after it finished (<c>unique_for</c>) is kept rather than removed: the next unique push
    /// of its key deletes it once the hold is over (<see cref="UniqueJobSql.Release"/>). A job an operator deleted while it
    /// ran (<see cref="Deleting"/>) is removed whatever the outcome: its slots are free from this commit on, not before.
    /// </summary>
    public static readonly string Complete = $$"""
        WITH o AS (
            SELECT * FROM unnest($3::uuid[], $4::integer[], $5::smallint[], $6::double precision[], $7::integer[], $8::text[], $9::boolean[], $12::uuid[], $13::text[],
                    $14::timestamptz[])
                AS o(id, attempt, kind, delay_ms, next_attempt, error, remove, lease_token, stack, run_at)
            ORDER BY id
        ),
        owned AS MATERIALIZED (
            SELECT o.id, CASE WHEN {{StickyCancel}} THEN {{OutcomeCancelled}} ELSE o.kind END AS kind,
                   o.delay_ms, o.run_at, o.next_attempt, o.error, o.stack,
                   {{Deleting("j")}} OR (CASE WHEN {{StickyCancel}} THEN $11 ELSE o.remove END
                       AND (j.unique_key IS NULL OR j.unique_for IS NULL OR j.unique_for <= interval '0')) AS remove
            FROM {{LockClaimed("o", "$1", "$2")}}
        ),
        removed AS (
            DELETE FROM {s}.jobs j USING owned WHERE j.id = owned.id AND owned.remove
            RETURNING j.id, j.concurrency_key
        ),
        updated AS (
            UPDATE {s}.jobs j
            SET state = CASE owned.kind WHEN {{OutcomeCompleted}} THEN {{Completed}} WHEN {{OutcomeFailed}} THEN {{Failed}} WHEN {{OutcomeRetry}} THEN {{Retrying}} WHEN {{OutcomeCancelled}} THEN {{Cancelled}} ELSE {{Pending}} END,
                attempts = CASE owned.kind WHEN {{OutcomeReschedule}} THEN greatest(owned.next_attempt - 1, 0) WHEN {{OutcomeRelease}} THEN greatest(j.attempts - 1, 0) ELSE j.attempts END,
                run_at = CASE WHEN owned.kind IN ({{OutcomeRetry}}, {{OutcomeReschedule}}) THEN
                    CASE WHEN owned.run_at IS NULL THEN now() + owned.delay_ms * interval '1 millisecond' ELSE greatest(owned.run_at, now()) END
                ELSE j.run_at END,
                last_error = CASE WHEN owned.kind = {{OutcomeCompleted}} THEN NULL WHEN owned.error IS NULL THEN j.last_error ELSE left(owned.error, 8000) END,
                started_at = CASE WHEN owned.kind IN ({{OutcomeRelease}}, {{OutcomeCancelled}}) THEN j.started_at ELSE coalesce(j.started_at, now()) END,
                errors = CASE WHEN owned.kind = {{OutcomeCompleted}} OR owned.error IS NULL THEN j.errors ELSE {{AppendError("j.attempts", "owned.error", "owned.stack")}} END,
                finished_at = CASE WHEN owned.kind IN ({{OutcomeCompleted}}, {{OutcomeFailed}}, {{OutcomeCancelled}}) THEN now() END,
                lease_expires_at = NULL, lease_token = NULL, cancel_requested = false, updated_at = now()
            FROM owned
            WHERE j.id = owned.id AND NOT owned.remove
            RETURNING j.state, j.run_at, j.concurrency_key
        ),
        wake AS (
            SELECT pg_notify($10, {{JobNotification.SqlDue}}) FROM (SELECT 1 FROM updated WHERE state IN ({{Pending}}, {{Retrying}}) AND run_at <= now() LIMIT 1) w
            WHERE $10::text IS NOT NULL
        )
        SELECT (SELECT count(*) FROM removed) + (SELECT count(*) FROM updated), (SELECT count(*) FROM wake),
            (SELECT count(*) FROM removed WHERE concurrency_key IS NOT NULL) + (SELECT count(*) FROM updated WHERE concurrency_key IS NOT NULL)
        """;

    /// <summary>
    /// Deletes the rows of arrays $3 id and $4 lease token (outcomes that remove a finished job: completed, failed or
    /// cancelled under a retention that keeps none) that worker $2 still holds in queue $1, unless a unique key holds
    /// after the job (<c>unique_for</c>), and returns (rows deleted, keyed rows among them). <see cref="Complete"/>
    /// without its row locks: each argument row, in id order, finds its row's version through the primary key (a
    /// <c>LATERAL … LIMIT 1</c> probe, so the argument rows drive the plan and the rows are deleted in the one id order
    /// of every statement that locks claimed rows), and the <c>DELETE</c> takes that version by <c>ctid</c>. The ownership
    /// test is in the <c>DELETE</c>'s own <c>WHERE</c>: PostgreSQL re-evaluates it on the latest row version when a
    /// concurrent write got there first (<c>IS TRUE</c> keeps it out of the index choice). A row that version no longer
    /// matches (updated since the snapshot: its <c>ctid</c> changed), that another worker holds, or that a unique key
    /// holds, or whose cancel was requested (a failure then ends it cancelled, which retention may keep; an operator's delete
    /// of a running job requests its cancel too, and <see cref="Complete"/> deletes that row) is left as it was: fewer rows deleted than asked, and the caller sends the batch through <see cref="Complete"/>,
    /// where the rows already deleted are simply not found. The arrays reach <c>unnest</c> through scalar subqueries, so
    /// custom plans size the argument rows as generic plans do (10 rows): sized from the bound arrays (a few hundred), the
    /// planner joined the rows by <c>ctid</c> through a hash of a sequential scan of the whole table, once per batch.
    /// </summary>
    public static readonly string CompleteRemoving = $$"""
        WITH removed AS (
            DELETE FROM {s}.jobs j
            USING (SELECT * FROM unnest((SELECT $3::uuid[]), (SELECT $4::uuid[])) AS o(id, lease_token) ORDER BY id) o
                CROSS JOIN LATERAL (SELECT x.ctid, o.lease_token FROM {s}.jobs x WHERE x.id = o.id LIMIT 1) p
            WHERE j.ctid = p.ctid
                AND (j.queue_name = $1 AND j.state = {{Processing}} AND j.worker_id = $2 AND j.lease_token = p.lease_token
                    AND NOT j.cancel_requested AND (j.unique_key IS NULL OR j.unique_for IS NULL OR j.unique_for <= interval '0')) IS TRUE
            RETURNING j.concurrency_key
        )
        SELECT count(*), count(concurrency_key) FROM removed
        """;

    /// <summary>
    /// Extends by $4 ms the leases of worker $3's claims in queue $1: arrays $2 id, $5 lease token and $6 running-for ms
    /// (null, or how long the handler of a claim taken not started has run: records its start). Rows are found and
    /// locked like <see cref="Complete"/>'s (<see cref="LockClaimed"/>); the result is grouped, not joined, so its cost stays
    /// linear in the batch. Returns the (id, token) pairs it no
    /// longer owns (lost = true) and those whose job a user asked to cancel (lost = false).
    /// </summary>
    public static readonly string RenewLeases = $$"""
        WITH l AS (SELECT * FROM unnest($2::uuid[], $5::uuid[], $6::double precision[]) AS l(id, lease_token, running_ms) ORDER BY id),
        locked AS MATERIALIZED (
            SELECT l.id, l.running_ms FROM {{LockClaimed("l", "$1", "$3")}}
        ),
        renewed AS (
            UPDATE {s}.jobs j SET lease_expires_at = now() + $4 * interval '1 millisecond',
                started_at = coalesce(j.started_at, now() - locked.running_ms * interval '1 millisecond')
            FROM locked
            WHERE j.id = locked.id
            RETURNING j.id, j.lease_token, j.cancel_requested
        )
        SELECT id, lease_token, bool_and(lost) AS lost
        FROM (
            SELECT id, lease_token, true AS lost, false AS cancel FROM l
            UNION ALL
            SELECT id, lease_token, false, cancel_requested FROM renewed
        ) pairs
        GROUP BY id, lease_token
        HAVING bool_and(lost) OR bool_or(cancel)
        """;

    /// <summary>
    /// Rescues processing jobs of queue $1 whose lease expired: retrying (due now) when attempts remain, failed when
    /// not, cancelled when a cancel was requested. A claim that never started (started_at NULL: prefetched, its worker
    /// died) gives its attempt back and is retried, with no error recorded.
    /// $2 delete failed, $3 delete cancelled (retention), $4 channel. A unique job whose key holds after it finished
    /// (<c>unique_for</c>) is kept rather than removed, as <see cref="Complete"/> keeps it. A job an operator deleted while
    /// it ran (<see cref="Deleting"/>: its worker died before it wrote the outcome) is deleted, never requeued.
    /// </summary>
    public static readonly string RescueExpired = $$"""
        WITH expired AS MATERIALIZED (
            SELECT id, started_at IS NOT NULL AS started,
                   CASE WHEN cancel_requested THEN {{Cancelled}} WHEN started_at IS NULL THEN {{Retrying}} WHEN attempts >= max_attempts THEN {{Failed}} ELSE {{Retrying}} END AS next_state,
                   (unique_key IS NULL OR unique_for IS NULL OR unique_for <= interval '0') AS removable,
                   delete_requested AND cancel_requested AS deleting
            FROM {s}.jobs
            WHERE queue_name = $1 AND state = {{Processing}} AND lease_expires_at < now()
            FOR UPDATE SKIP LOCKED
        ),
        removed AS (
            DELETE FROM {s}.jobs j USING expired e
            WHERE j.id = e.id AND (e.deleting OR (e.removable AND ((e.next_state = {{Failed}} AND $2) OR (e.next_state = {{Cancelled}} AND $3))))
            RETURNING j.id
        ),
        updated AS (
            UPDATE {s}.jobs j
            SET state = e.next_state,
                run_at = CASE WHEN e.next_state = {{Retrying}} THEN now() ELSE j.run_at END,
                finished_at = CASE WHEN e.next_state = {{Retrying}} THEN NULL ELSE now() END,
                lease_expires_at = NULL, lease_token = NULL, cancel_requested = false, updated_at = now(),
                attempts = CASE WHEN e.started OR e.next_state = {{Cancelled}} THEN j.attempts ELSE greatest(j.attempts - 1, 0) END,
                last_error = CASE WHEN e.started OR e.next_state = {{Cancelled}} THEN {{LeaseExpiredError}} ELSE j.last_error END,
                errors = CASE WHEN e.started OR e.next_state = {{Cancelled}} THEN {{AppendError("j.attempts", LeaseExpiredError)}} ELSE j.errors END
            FROM expired e
            WHERE j.id = e.id AND NOT (e.deleting OR (e.removable AND ((e.next_state = {{Failed}} AND $2) OR (e.next_state = {{Cancelled}} AND $3))))
            RETURNING j.state
        ),
        wake AS (
            SELECT pg_notify($4, {{JobNotification.SqlDue}}) FROM (SELECT 1 FROM updated WHERE state = {{Retrying}} LIMIT 1) w WHERE $4::text IS NOT NULL
        )
        SELECT (SELECT count(*) FROM removed) + (SELECT count(*) FROM updated), (SELECT count(*) FROM wake)
        """;

    /// <summary>
    /// Cancels job $2 of queue $1. Waiting jobs become cancelled (or are deleted when $3, retention, unless a unique key
    /// holds after the job: <c>unique_for</c>, as <see cref="Complete"/> keeps it); a running job gets
    /// cancel_requested and a <c>c:{id}:{lease token}</c> notification on channel $4 (the claim running it now: a worker
    /// cancels only that claim). Returns the state the job had (no row: none) and the lease token of a running job.
    /// </summary>
    public static readonly string Cancel = $$"""
        WITH target AS MATERIALIZED (
            SELECT id, state, lease_token,
                   state <> {{Processing}} AND $3 AND (unique_key IS NULL OR unique_for IS NULL OR unique_for <= interval '0') AS remove
            FROM {s}.jobs WHERE id = $2 AND queue_name = $1 AND state IN ({{Pending}}, {{Processing}}, {{Retrying}}, {{Paused}}) FOR UPDATE
        ),
        removed AS (
            DELETE FROM {s}.jobs j USING target t WHERE j.id = t.id AND t.remove
            RETURNING j.id
        ),
        updated AS (
            UPDATE {s}.jobs j
            SET state = CASE WHEN t.state = {{Processing}} THEN {{Processing}} ELSE {{Cancelled}} END,
                cancel_requested = (t.state = {{Processing}}),
                paused_from = NULL,
                finished_at = CASE WHEN t.state = {{Processing}} THEN j.finished_at ELSE now() END,
                updated_at = now()
            FROM target t
            WHERE j.id = t.id AND NOT t.remove
            RETURNING j.id
        ),
        notified AS (
            SELECT pg_notify($4, {{JobNotification.SqlCancelRequested("t.id", "t.lease_token")}}) FROM target t WHERE t.state = {{Processing}} AND $4::text IS NOT NULL
        )
        SELECT t.state, t.lease_token, (SELECT count(*) FROM removed) + (SELECT count(*) FROM updated), (SELECT count(*) FROM notified) FROM target t
        """;

    /// <summary>Pauses waiting job $2 of queue $1 (pending or retrying), remembering the state it had.</summary>
    public static readonly string Pause = $$"""
        UPDATE {s}.jobs SET paused_from = state, state = {{Paused}}, updated_at = now()
        WHERE id = $2 AND queue_name = $1 AND state IN ({{Pending}}, {{Retrying}})
        """;

    /// <summary>Resumes paused job $2 of queue $1 with its priority and run time; notifies $3 when it is due.</summary>
    public static readonly string Resume = $$"""
        WITH resumed AS (
            UPDATE {s}.jobs SET state = coalesce(paused_from, {{Pending}}), paused_from = NULL, updated_at = now()
            WHERE id = $2 AND queue_name = $1 AND state = {{Paused}}
            RETURNING run_at
        ),
        wake AS (
            SELECT pg_notify($3, {{JobNotification.SqlDue}}) FROM resumed WHERE run_at <= now() AND $3::text IS NOT NULL
        )
        SELECT (SELECT count(*) FROM resumed), (SELECT count(*) FROM wake)
        """;

    /// <summary>Job $2 of queue $1.</summary>
    public static readonly string GetJob = $$"""
        SELECT id, name, queue_name, state, priority, attempts, max_attempts, payload::text, created_at, run_at,
               started_at, finished_at, last_error, worker_id, errors::text
        FROM {s}.jobs WHERE id = $2 AND queue_name = $1
        """;

    /// <summary>Counts per name and state in queue $1 (an operator's query: reads every row of the queue).</summary>
    public static readonly string GetCountsByName = """
        SELECT name, state, count(*) FROM {s}.jobs WHERE queue_name = $1 GROUP BY name, state ORDER BY name
        """;

    /// <summary>
    /// Names of runnable jobs of queue $1 due for more than $2 ms: count and oldest run_at. Reads only the runnable rows
    /// (jobs_runnable_idx), for the periodic unhandled-name check.
    /// </summary>
    public static readonly string GetWaitingNames = $$"""
        SELECT name, count(*), min(run_at) FROM {s}.jobs
        WHERE queue_name = $1 AND state IN ({{Pending}}, {{Retrying}}) AND run_at < now() - $2 * interval '1 millisecond'
        GROUP BY name ORDER BY name
        """;

    private const string SetAsynchronousCommit = "set_config('synchronous_commit', 'off', true)";
    // The generic plan cannot see the claim's LIMIT, so its estimate grows with the queue: at a few hundred thousand
    // runnable rows it passes jit_above_cost (100,000 by default) and PostgreSQL would JIT-compile the claim on every
    // execution (~40 ms of LLVM per claim at a million rows, 5x the claim's own work). A claim never runs long enough to
    // repay a compile, so the same transaction-local statement turns JIT off.
    private const string SetGenericPlan = "set_config('plan_cache_mode', 'force_generic_plan', true), set_config('jit', 'off', true)";

    /// <summary>Makes the current (implicit) transaction commit without waiting for the WAL flush.</summary>
    public const string AsynchronousCommit = "SELECT " + SetAsynchronousCommit;

    /// <summary>
    /// The transaction-local settings in front of a worker's statement, in one statement (null: none).
    /// <paramref name="asynchronousCommit"/>: <see cref="AsynchronousCommit"/>. <paramref name="genericPlan"/>: the
    /// prepared statements of the transaction run their generic plans (a statement whose custom plans the planner
    /// estimates cheaper than its generic one is otherwise planned again on every execution), without JIT compilation
    /// (a generic plan's estimate on a large queue would otherwise pass <c>jit_above_cost</c> on every execution).
    /// </summary>
    public static string? TransactionSettings(bool asynchronousCommit, bool genericPlan) => (asynchronousCommit, genericPlan) switch
    {
        (true, true) => AsynchronousCommit + ", " + SetGenericPlan,
        (true, false) => AsynchronousCommit,
        (false, true) => "SELECT " + SetGenericPlan,
        _ => null,
    };

    /// <summary>Wakes listeners of channel $1 (after a cleanup rerun).</summary>
    public static readonly string Notify = "SELECT pg_notify($1, " + JobNotification.SqlDue + ")";
}
