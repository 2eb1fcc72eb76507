namespace Jobs.Sdk.Postgres;

/// <summary>
/// The jobs an operator's cancel keeps for inspection (migration <see cref="Name"/>, column <c>operator_cancelled_at</c>):
/// <see cref="AdminSql.Cancel"/> keeps every waiting job it cancels, whatever the retention of cancelled jobs (which applies
/// to a job whose own attempt, or the app's <c>CancelAsync</c>, ends it cancelled), and a unique one holds its key for its
/// <c>unique_for</c> after the cancel, as a completed job does. Once that hold was over, the next push of the key
/// (<see cref="UniqueJobSql.Release"/>) and the rescue pass (<see cref="UniqueJobSql.DropExpiredHolders"/>) took it for a
/// holder kept only for its key and deleted it when retention drops cancelled jobs; they now release its key instead
/// (remembered in <c>released_unique_key</c>, for a retry), as they do for a job retention keeps.
/// </summary>
internal static class OperatorCancelSql
{
    /// <summary>The migration's name (provisional number: the lead renumbers on merge).</summary>
    public const string Name = "0018_operator_cancels";

    /// <summary>
    /// Migration 0018: a nullable column without a default (adding it rewrites nothing) that no older statement names, so
    /// older code keeps running: its release and rescue pass still delete such a job once its hold is over (as before this
    /// version), and its writers leave the column as it was, which <see cref="KeptForInspection"/> then no longer matches
    /// (it compares it with <c>finished_at</c>, which every writer that puts a job back or ends it sets).
    /// </summary>
    public const string Migration = """
        -- jobs:compatible-from 0002_create_schedule_fires
        ALTER TABLE {s}.jobs ADD COLUMN IF NOT EXISTS operator_cancelled_at timestamptz;
        """;

    /// <summary>The SET item of <see cref="AdminSql.Cancel"/> for row <paramref name="j"/> (its target <paramref name="t"/>): a waiting job ends now.</summary>
    public static string Mark(string j, string t) =>
        $"operator_cancelled_at = CASE WHEN {t}.state = 1 THEN {j}.operator_cancelled_at ELSE now() END";

    /// <summary>
    /// Whether row <paramref name="row"/> is, as it stands, the job an operator's cancel ended: its <c>finished_at</c> is
    /// still the time of that cancel (set in the same statement). A job put back since (a retry, a cleanup rerun: no
    /// <c>finished_at</c>) and ended again (a new <c>finished_at</c>) is under retention again, without any writer having
    /// to clear the column (code from before 0018 does not know it).
    /// </summary>
    public static string KeptForInspection(string row) => $"coalesce({row}.operator_cancelled_at = {row}.finished_at, false)";
}
