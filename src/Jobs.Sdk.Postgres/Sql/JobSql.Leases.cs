using static Jobs.Sdk.Postgres.SqlCodes;

namespace Jobs.Sdk.Postgres;

// Leases: renewing a worker's claims, and rescuing jobs whose lease expired.
internal static partial class JobSql
{
    private const string LeaseExpiredError = """
        'Jobs.Sdk.LeaseExpired: worker ' || coalesce(j.worker_id, '?')
                    || ' stopped renewing the lease of attempt ' || j.attempts || ' of ' || j.max_attempts || '.'
        """;

    /// <summary>
    /// Extends by $4 ms the leases of worker $3's claims in queue $1: arrays $2 id, $5 lease token and $6 running-for ms
    /// (null, or how long the handler of a claim taken not started has run: records its start). Rows are found and
    /// locked like <see cref="Complete"/>'s (<see cref="LockClaimed"/>); the result is grouped, not joined, so its cost stays
    /// linear in the batch. Returns (id, token, lost, held, holder) for the pairs it no longer owns (lost), those whose job
    /// a user asked to cancel, and none else. Sent behind a bounded <c>lock_timeout</c> (<see cref="ClaimLockWait.For"/>
    /// the lease): a row another session holds longer makes it give up (55P03), and the worker sends
    /// <see cref="RenewLeasesSkippingHeld"/> instead.
    /// </summary>
    public static readonly string RenewLeases = Renew(skipHeld: false);

    /// <summary>
    /// <see cref="RenewLeases"/> after it gave up on a row another session holds (an operator's open transaction that
    /// updated a running job, an admin action stuck in its transaction): renews the rows that are free (<c>SKIP
    /// LOCKED</c>), and returns the rows it skipped whose committed version the worker still owns as held (not lost: not
    /// renewed, tried again at the next renewal), with the process id of the session that holds them (null when
    /// PostgreSQL does not say: several transactions share the row's lock). Waiting for the row, the renewal kept every
    /// other running job of the queue from its renewal (and the queue's claims from their turn on its connection) until
    /// the leases ended.
    /// </summary>
    public static readonly string RenewLeasesSkippingHeld = Renew(skipHeld: true);

    private static string Renew(bool skipHeld) => $$"""
        WITH l AS (SELECT * FROM unnest($2::uuid[], $5::uuid[], $6::double precision[]) AS l(id, lease_token, running_ms) ORDER BY id),
        locked AS MATERIALIZED (
            SELECT l.id, l.running_ms FROM {{LockClaimed("l", "$1", "$3", skipLocked: skipHeld)}}
        ),
        renewed AS (
            UPDATE {s}.jobs j SET lease_expires_at = now() + $4 * interval '1 millisecond',
                started_at = coalesce(j.started_at, now() - locked.running_ms * interval '1 millisecond')
            FROM locked
            WHERE j.id = locked.id
            RETURNING j.id, j.lease_token, j.cancel_requested
        ){{(skipHeld ? ",\n" + HeldRows : "")}}
        SELECT id, lease_token, bool_and(lost) AS lost, bool_or(held) AS held, max(holder) AS holder
        FROM (
            SELECT id, lease_token, true AS lost, false AS cancel, false AS held, NULL::integer AS holder FROM l
            UNION ALL
            SELECT id, lease_token, false, cancel_requested, false, NULL FROM renewed{{(skipHeld ? HeldUnion : "")}}
        ) pairs
        GROUP BY id, lease_token
        HAVING bool_and(lost) OR bool_or(cancel) OR bool_or(held)
        """;

    /// <summary>
    /// The argument rows <see cref="RenewLeasesSkippingHeld"/> skipped whose row version of the statement's snapshot the
    /// worker still owns (read, not locked), and the session holding the row: the transaction in its <c>xmax</c>.
    /// </summary>
    private static string HeldRows => $$"""
        held AS (
            SELECT l.id, l.lease_token,
                   (SELECT min(k.pid) FROM pg_locks k WHERE k.locktype = 'transactionid' AND k.transactionid = j.xmax AND k.granted AND k.pid <> pg_backend_pid()) AS holder
            FROM l CROSS JOIN LATERAL (SELECT x.queue_name, x.state, x.worker_id, x.lease_token, x.xmax FROM {s}.jobs x WHERE x.id = l.id LIMIT 1) j
            WHERE NOT EXISTS (SELECT 1 FROM locked WHERE locked.id = l.id)
                AND j.queue_name = $1 AND j.state = {{Processing}} AND j.worker_id = $3 AND j.lease_token = l.lease_token
        )
        """;

    private const string HeldUnion = """

            UNION ALL
            SELECT id, lease_token, false, false, true, holder FROM held
        """;

    /// <summary>
    /// Rescues processing jobs of queue $1 whose lease expired: retrying (due now) when attempts remain, failed when
    /// not, cancelled when a cancel was requested. A claim that never started (started_at NULL: prefetched, its worker
    /// died) gives its attempt back and is retried, with no error recorded.
    /// $2 delete failed, $3 delete cancelled (retention), $4 channel. A unique job whose key holds after it finished
    /// (<c>unique_for</c>) is kept rather than removed, as <see cref="Complete"/> keeps it. A job an operator deleted while
    /// it ran (<see cref="Deleting"/>: its worker died before it wrote the outcome) is deleted, never requeued.
    /// Returns one row: the jobs rescued, the notifications sent, and per job name and next state the rescued attempts that
    /// had started (three parallel arrays, null when none), which the driver counts in the outcome metrics.
    /// </summary>
    public static readonly string RescueExpired = $$"""
        WITH expired AS MATERIALIZED (
            SELECT id, name, started_at IS NOT NULL AS started,
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
        SELECT (SELECT count(*) FROM removed) + (SELECT count(*) FROM updated), (SELECT count(*) FROM wake), g.names, g.states, g.counts
        FROM (SELECT array_agg(c.name) AS names, array_agg(c.next_state) AS states, array_agg(c.n) AS counts
              FROM (SELECT name, next_state::integer AS next_state, count(*) AS n FROM expired WHERE started GROUP BY name, next_state) c) g
        """;
}
