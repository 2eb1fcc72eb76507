using Npgsql;

namespace Jobs.Sdk.Postgres;

/// <summary>
/// A batch push's statement cancelled by the session's <c>statement_timeout</c> (57014): a role's or database's setting
/// (managed PostgreSQL) that a statement of <see cref="PostgresJobPusher"/>'s rows runs past on a loaded server, or behind
/// a slow trigger. Told apart from another session's cancel (<c>pg_cancel_backend</c>, the same code) by the time the push
/// ran, not by the server's message (in its <c>lc_messages</c> language). The push is all or nothing: in the driver's own
/// transaction it was rolled back whole and is tried again in smaller statements; in the caller's transaction, which the
/// cancel aborted, it is <see cref="InCallersTransaction"/>.
/// </summary>
internal static class PushStatementTimeout
{
    /// <summary>The timeout in effect (as set) and in milliseconds.</summary>
    private const string Setting = "SELECT current_setting('statement_timeout'), setting::bigint FROM pg_settings WHERE name = 'statement_timeout'";

    /// <summary>
    /// The statement_timeout (as set) that cancelled a push which ran <paramref name="ran"/>, read on
    /// <paramref name="connection"/> when its transaction has ended (<paramref name="usable"/>), else on a new connection of
    /// <paramref name="dataSource"/> (the role's and database's setting); null when none is set, the push was cancelled
    /// sooner than it (another session cancelled it), or the setting cannot be read.
    /// </summary>
    public static async Task<string?> ReadAsync(NpgsqlConnection connection, bool usable, NpgsqlDataSource dataSource, TimeSpan ran)
    {
        try
        {
            if (usable)
            {
                return await ReadOnAsync(connection, ran).ConfigureAwait(false);
            }

            var other = await dataSource.OpenConnectionAsync(CancellationToken.None).ConfigureAwait(false);
            await using (other.ConfigureAwait(false))
            {
                return await ReadOnAsync(other, ran).ConfigureAwait(false);
            }
        }
        catch (NpgsqlException)
        {
            return null;
        }
    }

    /// <summary>The exception of a push of <paramref name="jobs"/> jobs in the caller's transaction whose statement of <paramref name="rows"/> rows ran past <paramref name="timeout"/>.</summary>
    public static JobsException InCallersTransaction(int jobs, int rows, string timeout, PostgresException canceled) => new(
        $"A push of {jobs} jobs in the caller's transaction ran past PostgreSQL's statement_timeout of {timeout}: one of its statements of {rows} row{(rows == 1 ? "" : "s")} " +
        "was cancelled (57014), and the transaction is aborted: roll it back, nothing of it is stored. Push the batch outside a transaction " +
        "(the driver then stores it all or nothing, in smaller statements while they run past the timeout), raise the timeout for this " +
        "transaction (SET LOCAL statement_timeout = '5min' before the push) or for the role (ALTER ROLE ... SET statement_timeout), " +
        "or look for what slows the inserts (a trigger on the jobs table, a lock).", canceled);

    /// <summary>The exception of a push of <paramref name="jobs"/> jobs of the driver's own transaction whose statements of a single row each ran past <paramref name="timeout"/>.</summary>
    public static JobsException EvenOneRow(int jobs, string timeout, PostgresException canceled) => new(
        $"A push of {jobs} jobs ran past PostgreSQL's statement_timeout of {timeout} even in statements of one row: it was rolled back, " +
        "nothing of it is stored. Raise the timeout for the role that pushes (ALTER ROLE ... SET statement_timeout) or for the pushing " +
        "process's connections (Options=-c statement_timeout=... in its connection string), or look for what slows the inserts (a trigger " +
        "on the jobs table, a lock), and push again.", canceled);

    private static async Task<string?> ReadOnAsync(NpgsqlConnection connection, TimeSpan ran)
    {
        var command = new NpgsqlCommand(Setting, connection);
        await using var commandDisposal = command.ConfigureAwait(false);
        var reader = await command.ExecuteReaderAsync(CancellationToken.None).ConfigureAwait(false);
        await using var readerDisposal = reader.ConfigureAwait(false);
        if (!await reader.ReadAsync(CancellationToken.None).ConfigureAwait(false))
        {
            return null;
        }

        var milliseconds = reader.GetInt64(1);
        // Measured here, the push ran at least as long as the server counted: cancelled sooner, someone else cancelled it.
        return milliseconds == 0 || ran < TimeSpan.FromMilliseconds(milliseconds) ? null : reader.GetString(0);
    }
}
