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
