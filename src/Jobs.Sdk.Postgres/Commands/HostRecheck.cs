using Npgsql;

namespace Jobs.Sdk.Postgres;

/// <summary>
/// Opens the driver's connections. On a multi-host data source (<c>Host=a,b;Target Session Attributes=primary</c>) an
/// open that fails makes Npgsql forget what it remembers of each host (offline, standby): it would otherwise not try
/// them again for Host Recheck Seconds (10 by default), and a worker that tried a standby just before its promotion
/// would keep failing that long after it.
/// </summary>
internal static class HostRecheck
{
    /// <summary>
    /// Opens a connection of the driver's own: outside the caller's ambient transaction (a <c>TransactionScope</c>), which
    /// a connection opened inside it would otherwise join (Npgsql's <c>Enlist=true</c>) with the driver's claims, outcomes,
    /// reads and announcements (<see cref="AmbientTransactions"/>). <paramref name="enlist"/>: join it (a push in a scope).
    /// </summary>
    public static async ValueTask<NpgsqlConnection> OpenConnectionRecheckingAsync(this NpgsqlDataSource dataSource, CancellationToken cancellationToken,
        bool enlist = false)
    {
        using var suppressed = enlist ? null : AmbientTransactions.Suppress();
        try
        {
            return await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (NpgsqlException) when (dataSource is NpgsqlMultiHostDataSource multiHost)
        {
            // The callers back off between tries: looking at every host again costs a connection attempt per host per try.
            multiHost.ClearDatabaseStates();
            throw;
        }
    }
}
