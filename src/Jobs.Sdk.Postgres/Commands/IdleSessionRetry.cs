using Npgsql;

namespace Jobs.Sdk.Postgres;

/// <summary>
/// Runs statements on a pooled connection of their own, once more on a new connection when the server had ended the
/// first one while it waited in the pool: a role's or database's <c>idle_session_timeout</c> (PostgreSQL 14+, common on
/// managed PostgreSQL) shorter than the quiet spells between statements. The server sends that error (57P05) only from
/// its wait for a command outside a transaction, and ends the session there, so nothing of the statements ran; sent again
/// on a new connection, they run once. Any other failure stands as it was (a connection that broke after the statements
/// went out is not this case: the server may have run them).
/// </summary>
internal static class IdleSessionRetry
{
    /// <summary>
    /// Whether <paramref name="ex"/> is the server ending a session that had idled past its <c>idle_session_timeout</c>
    /// (57P05): nothing of the statement that met it ran.
    /// </summary>
    public static bool SessionEnded(Exception ex) => ex is PostgresException { SqlState: "57P05" };

    /// <summary>
    /// Opens a pooled connection and runs <paramref name="run"/> on it; when the server had ended the connection while it
    /// idled (<see cref="SessionEnded"/>), runs <paramref name="run"/> once more on a new one (its second argument true).
    /// </summary>
    public static async Task<T> RunAsync<T>(NpgsqlDataSource dataSource, Func<NpgsqlConnection, bool, Task<T>> run, CancellationToken cancellationToken)
    {
        for (var again = false; ; again = true)
        {
            var connection = await dataSource.OpenConnectionRecheckingAsync(cancellationToken).ConfigureAwait(false);
            await using (connection.ConfigureAwait(false))
            {
                try
                {
                    return await run(connection, again).ConfigureAwait(false);
                }
                catch (PostgresException ex) when (!again && SessionEnded(ex))
                {
                    // The pooled connection was dead before the statements went out: they run again on a new one.
                }
            }
        }
    }

    /// <summary>
    /// A copy of <paramref name="command"/> that owns its parameters (taken from <paramref name="command"/>, which had them
    /// in a batch that failed): a parameter belongs to one command at a time.
    /// </summary>
    public static NpgsqlBatchCommand Detached(NpgsqlBatchCommand command)
    {
        var parameters = command.Parameters.ToArray();
        command.Parameters.Clear();
        var copy = new NpgsqlBatchCommand(command.CommandText) { AppendErrorBarrier = command.AppendErrorBarrier };
        foreach (var parameter in parameters)
        {
            copy.Parameters.Add(parameter);
        }

        return copy;
    }
}
