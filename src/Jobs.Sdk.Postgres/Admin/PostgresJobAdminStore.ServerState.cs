using Npgsql;

namespace Jobs.Sdk.Postgres;

/// <content>
/// Whether the server the store reads refuses writes. Reads never fail on a read-only server, so a process that only reads
/// (a dashboard nobody acts on) learns nothing from them: after a failover behind one host name its pool keeps reading the
/// old primary, now read-only or a standby, and a dashboard pointed at a read replica shows the replica's lagging figures.
/// One cheap statement tells it, so the page can say so (and disable its actions) instead of showing stale figures as current.
/// </content>
public sealed partial class PostgresJobAdminStore
{
    private const string ReadOnlySql =
        "SELECT pg_is_in_recovery(), current_setting('transaction_read_only') = 'on', current_setting('default_transaction_read_only') = 'on'";

    /// <inheritdoc />
    /// <remarks>
    /// <c>pg_is_in_recovery()</c> (a standby: a read replica, or an old primary restarted as one) and the session's
    /// <c>transaction_read_only</c> (<c>default_transaction_read_only</c> set for the server, the database or the role),
    /// read on a connection of the pool: the one the next read would use. When the server is read-only the pool is cleared
    /// (at most every 10 seconds, logged as event 2017 once per burst), so that after a failover behind one host name the
    /// next reads reach the new primary; a server read-only on purpose (a read replica) costs one reconnect per 10 seconds.
    /// </remarks>
    public async Task<string?> GetReadOnlyReasonAsync(CancellationToken cancellationToken)
    {
        var reason = await ReadAsync(async connection =>
        {
            var command = new NpgsqlCommand(ReadOnlySql, connection);
            await using var commandDisposal = command.ConfigureAwait(false);
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using var readerDisposal = reader.ConfigureAwait(false);
            await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            return ReadOnlyReason(inRecovery: reader.GetBoolean(0), transactionReadOnly: reader.GetBoolean(1), defaultReadOnly: reader.GetBoolean(2));
        }, cancellationToken).ConfigureAwait(false);

        if (reason is not null)
        {
            _readOnlyReset.OnReadOnlyRead(reason);
        }

        return reason;
    }

    internal static string? ReadOnlyReason(bool inRecovery, bool transactionReadOnly, bool defaultReadOnly)
        => inRecovery ? "a standby in recovery"
            : defaultReadOnly ? "default_transaction_read_only is on"
            : transactionReadOnly ? "transaction_read_only is on"
            : null;
}
