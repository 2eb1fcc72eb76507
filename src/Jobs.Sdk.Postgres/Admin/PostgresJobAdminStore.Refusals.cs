using Npgsql;

namespace Jobs.Sdk.Postgres;

/// <content>
/// Writes refused by a read-only server. After a failover behind one host name (a cluster endpoint, a Kubernetes service, a
/// virtual IP) the pool's open connections still reach the old primary, which may stay up read-only (25006): a process that
/// only operates the queue (a dashboard, an admin tool) has no worker or pusher whose refused writes would clear the pool,
/// and every action would be refused for as long as the pool kept those connections. A refused statement changed nothing,
/// so the store clears the pool (<see cref="ReadOnlyPoolReset"/>) and runs the write once more on a fresh connection.
/// </content>
public sealed partial class PostgresJobAdminStore
{
    /// <summary>
    /// Runs <paramref name="write"/> on a connection of the pool; once more on a fresh one when the server refused it as
    /// read-only, or had ended the connection while it idled.
    /// </summary>
    private async Task<T> WriteAsync<T>(Func<NpgsqlConnection, Task<T>> write, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
            await using (connection.ConfigureAwait(false))
            {
                try
                {
                    return await write(connection).ConfigureAwait(false);
                }
                catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.ReadOnlySqlTransaction && TriesAgain(e, attempt))
                {
                    // The pool is cleared: this connection closes as it goes back, the next try opens a new one.
                }
                catch (PostgresException e) when (attempt == 1 && IdleSessionRetry.SessionEnded(e))
                {
                    // The server had ended the pooled connection while it idled: nothing ran (IdleSessionRetry).
                }
            }
        }
    }

    /// <inheritdoc cref="WriteAsync{T}"/>
    private Task WriteAsync(Func<NpgsqlConnection, Task> write, CancellationToken cancellationToken)
        => WriteAsync(async connection =>
        {
            await write(connection).ConfigureAwait(false);
            return true;
        }, cancellationToken);

    /// <summary>Clears the pool for a refused write (before its connection goes back); whether the write is tried again.</summary>
    private bool TriesAgain(PostgresException refused, int attempt)
    {
        _readOnlyReset.OnFailure(refused);
        return attempt < 2;
    }
}
