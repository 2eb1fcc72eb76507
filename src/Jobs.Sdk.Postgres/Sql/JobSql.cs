using static Jobs.Sdk.Postgres.SqlCodes;

namespace Jobs.Sdk.Postgres;

/// <summary>
/// SQL on <c>{s}.jobs</c>, named after the driver methods. <c>{s}</c> is the quoted schema, substituted once when the
/// driver is built. Every value is a positional parameter. State and outcome codes come from <see cref="JobState"/> and
/// <see cref="JobOutcomeKind"/> (through <see cref="SqlCodes"/>), notification payloads from <see cref="JobNotification"/>.
/// The notification channel parameter is NULL in poll-only mode (no NOTIFY is sent).
/// </summary>
internal static partial class JobSql
{
    /// <summary>How many attempt errors a job keeps in <c>errors</c>.</summary>
    public const int MaxErrors = 20;

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
    /// statement was prepared. <paramref name="skipLocked"/>: rows another transaction holds are skipped (<c>SKIP LOCKED</c>),
    /// not waited for (<see cref="RenewLeasesSkippingHeld"/>).
    /// </summary>
    private static string LockClaimed(string args, string queue, string worker, bool skipLocked = false) => $$"""
        {{args}} CROSS JOIN LATERAL (
                SELECT j.queue_name, j.state, j.worker_id, j.lease_token, j.cancel_requested, j.delete_requested, j.unique_key, j.unique_for FROM {s}.jobs j WHERE j.id = {{args}}.id LIMIT 1 FOR UPDATE{{(skipLocked ? " SKIP LOCKED" : "")}}
            ) j
            WHERE j.queue_name = {{queue}} AND j.state = {{Processing}} AND j.worker_id = {{worker}} AND j.lease_token = {{args}}.lease_token
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

    /// <summary>Wakes listeners of channel $1 (after a cleanup rerun).</summary>
    public static readonly string Notify = "SELECT pg_notify($1, " + JobNotification.SqlDue + ")";
}
