using static Jobs.Sdk.Postgres.SqlCodes;

namespace Jobs.Sdk.Postgres;

// Operator control of one job: cancel, pause, resume.
internal static partial class JobSql
{
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
}
