
namespace Jobs.Sdk.Postgres;

// Transaction-local settings in front of a worker's statements.
internal static partial class JobSql
{
    private const string SetAsynchronousCommit = "set_config('synchronous_commit', 'off', true)";
    // The generic plan cannot see the claim's LIMIT, so its estimate grows with the queue: at a few hundred thousand
    // runnable rows it passes jit_above_cost (100,000 by default) and PostgreSQL would JIT-compile the claim on every
    // execution (~40 ms of LLVM per claim at a million rows, 5x the claim's own work). A claim never runs long enough to
    // repay a compile, so the same transaction-local statement turns JIT off.
    private const string SetGenericPlan = "set_config('plan_cache_mode', 'force_generic_plan', true)";
    // A prepared statement's generic plan is built once, on the table's statistics of that moment, and kept until the
    // table is analyzed again. Built while they said the table was small, a keyed push's admission look-up read the whole
    // table (a sequential scan) instead of one key's index entries, on every push of a burst that grew it. Without
    // sequential scans the planner takes the index, which is the right plan at any size.
    private const string SetNoSeqScan = "set_config('enable_seqscan', 'off', true)";
    // A statement Npgsql prepared on its own (Max Auto Prepare) may be switched to a generic plan after five executions,
    // built on the table's statistics of that moment: the statements the driver runs unprepared so that each execution is
    // planned on the table's size then (a keyed batch's admission, a unique push's release) are planned for each execution.
    private const string SetCustomPlan = "set_config('plan_cache_mode', 'force_custom_plan', true)";
    // The caller's value of plan_cache_mode, kept for the rest of the statements of its round trip (a placeholder setting,
    // local to the transaction: empty once it ends).
    private const string CallersPlanCacheMode = "jobs.callers_plan_cache_mode";
    // Statements with either setting also turn JIT off (see SetGenericPlan; a disabled path's cost would pass jit_above_cost).
    private const string SetJitOff = "set_config('jit', 'off', true)";
    // A role's or database's statement_timeout (ALTER ROLE app SET statement_timeout = '50ms') cancelled maintenance over a
    // large queue at every pass: the lease rescue and cleanup batches then never made progress. As the migrations do for
    // their session, maintenance lifts it for its own transaction; every other statement keeps it.
    private const string LiftStatementTimeout = "set_config('statement_timeout', '0', true)";

    /// <summary>Makes the current (implicit) transaction commit without waiting for the WAL flush.</summary>
    public const string AsynchronousCommit = "SELECT " + SetAsynchronousCommit;

    /// <summary>
    /// <c>plan_cache_mode = force_custom_plan</c> for the rest of a caller's transaction, its value before saved (in
    /// <c>jobs.callers_plan_cache_mode</c>, transaction-local) for <see cref="RestoreCallersPlanCacheMode"/>: the first
    /// statement of a round trip in a caller's transaction whose statement must never run a generic plan. One result
    /// column (the setting is saved first: it is the argument of the second).
    /// </summary>
    public const string ForceCustomPlanSavingCallers =
        "SELECT set_config('plan_cache_mode', CASE WHEN set_config('" + CallersPlanCacheMode + "', current_setting('plan_cache_mode'), true) IS NOT NULL " +
        "THEN 'force_custom_plan' END, true)";

    /// <summary>
    /// Sets the caller's <c>plan_cache_mode</c> back to its value before <see cref="ForceCustomPlanSavingCallers"/>, in the
    /// same round trip: the caller's transaction goes on with its own value.
    /// </summary>
    public const string RestoreCallersPlanCacheMode = "SELECT set_config('plan_cache_mode', current_setting('" + CallersPlanCacheMode + "'), true)";

    private static readonly string?[] Settings = BuildSettings();

    /// <summary>
    /// The transaction-local settings in front of a worker's statement, in one statement (null: none).
    /// <paramref name="asynchronousCommit"/>: <see cref="AsynchronousCommit"/>. <paramref name="genericPlan"/>: the
    /// prepared statements of the transaction run their generic plans (a statement whose custom plans the planner
    /// estimates cheaper than its generic one is otherwise planned again on every execution), without JIT compilation
    /// (a generic plan's estimate on a large queue would otherwise pass <c>jit_above_cost</c> on every execution).
    /// <paramref name="maintenance"/>: no <c>statement_timeout</c> for the transaction (rescue, cleanup, retention).
    /// <paramref name="noSeqScan"/>: the statements of the transaction are planned without sequential scans where an index
    /// serves (<c>enable_seqscan = off</c>), and without JIT compilation, so a generic plan built while the table's
    /// statistics say it is small still reads the index (a keyed push's admission look-up). <paramref name="customPlan"/>:
    /// the prepared statements of the transaction are planned for each execution (<c>plan_cache_mode = force_custom_plan</c>),
    /// on a connection that prepares statements on its own (Npgsql's <c>Max Auto Prepare</c>).
    /// </summary>
    public static string? TransactionSettings(bool asynchronousCommit, bool genericPlan, bool maintenance, bool noSeqScan = false, bool customPlan = false)
        => Settings[(asynchronousCommit ? 1 : 0) | (genericPlan ? 2 : 0) | (maintenance ? 4 : 0) | (noSeqScan ? 8 : 0) | (customPlan ? 16 : 0)];

    private static string?[] BuildSettings()
    {
        var settings = new string?[32];
        for (var i = 1; i < settings.Length; i++)
        {
            var flags = i;
            string[] parts = [.. new[] { (1, SetAsynchronousCommit), (2, SetGenericPlan), (16, SetCustomPlan), (8, SetNoSeqScan), (2 | 8, SetJitOff), (4, LiftStatementTimeout) }
                .Where(p => (flags & p.Item1) != 0).Select(p => p.Item2)];
            settings[i] = "SELECT " + string.Join(", ", parts);
        }

        return settings;
    }
}
