using static Jobs.Sdk.Postgres.SqlCodes;

namespace Jobs.Sdk.Postgres;

// Outcomes: recording a batch of finished attempts, and the removing fast path.
internal static partial class JobSql
{
    /// <summary>
    /// In <see cref="Complete"/>'s <c>owned</c>: the job's cancel was requested and the outcome would requeue it or fail it
    /// (only success ends a cancel-requested job otherwise than cancelled).
    /// </summary>
    private static readonly string StickyCancel = $"j.cancel_requested AND o.kind IN ({OutcomeRetry}, {OutcomeReschedule}, {OutcomeRelease}, {OutcomeFailed})";

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
}
