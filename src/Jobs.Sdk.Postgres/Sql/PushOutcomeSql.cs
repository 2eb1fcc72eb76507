namespace Jobs.Sdk.Postgres;

/// <summary>
/// Settles a push whose answer was lost with its connection (see <see cref="PostgresPushOutcome"/>): end the session
/// that ran it, so nothing it was sent can still commit, then look its jobs up.
/// </summary>
internal static class PushOutcomeSql
{
    /// <summary>
    /// Terminates backend $1 when it is a session of this role (the push's, whose client went away) and waits up to $2 ms
    /// for it to exit (PostgreSQL 14 or later); true when it is gone (also when it had already exited), false when it
    /// still runs.
    /// </summary>
    public const string EndSession = """
        SELECT coalesce(bool_and(pg_terminate_backend(pid, $2::bigint)), true) FROM pg_catalog.pg_stat_activity
        WHERE pid = $1 AND usename = current_user AND backend_type = 'client backend'
        """;

    /// <summary>How many of the jobs $1 (ids) are stored; run after <see cref="EndSession"/>, on a snapshot of its own.</summary>
    public const string Stored = "SELECT count(*) FROM {s}.jobs WHERE id = ANY($1)";
}
