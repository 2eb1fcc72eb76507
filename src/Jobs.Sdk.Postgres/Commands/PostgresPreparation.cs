using Npgsql;

namespace Jobs.Sdk.Postgres;

/// <summary>
/// Whether the driver's statements may be prepared on their connections. A prepared statement lives in one server session:
/// behind a transaction pooler (PgBouncer with <c>pool_mode = transaction</c>, which before 1.21 keeps no prepared
/// statements) the next transaction of the same client connection may run on another session, where it is missing
/// (<c>prepared statement "_p1" does not exist</c>) or another client's has its name (<c>"_p1" already exists</c>).
/// <para>
/// Found out once, when the schema gate first runs (before any statement on the job tables): a direct connection's
/// server process id (<c>pg_backend_pid()</c>) is the one PostgreSQL sent when the connection opened; a pooler sends an id
/// of its own (or none). Until then, and behind a pooler, nothing is prepared. A connection of the caller's (a push in
/// the caller's transaction) is prepared only when it comes from the driver's own data source (same connection string):
/// another data source may go through a pooler the driver never probed.
/// </para>
/// </summary>
internal sealed class PostgresPreparation(NpgsqlDataSource dataSource)
{
    private volatile bool _direct;

    /// <summary>
    /// Finds out whether the data source's connections reach PostgreSQL directly; true when they do. Once more on a new
    /// connection when the server had ended the pooled one while it idled (<see cref="IdleSessionRetry"/>).
    /// </summary>
    public async Task<bool> ProbeAsync(CancellationToken cancellationToken)
        => _direct = await IdleSessionRetry.RunAsync(dataSource, async (connection, _) =>
        {
            // The server process it talks to is the one PostgreSQL announced when it opened (a pooler announces its own, or none).
            var command = new NpgsqlCommand("SELECT pg_backend_pid()", connection);
            await using var commandDisposal = command.ConfigureAwait(false);
            var pid = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as int?;
            return pid is { } server && server == connection.ProcessID;
        }, cancellationToken).ConfigureAwait(false);

    /// <summary>
    /// Whether a statement may be prepared on <paramref name="connection"/> (a pooled connection of the data source when
    /// null).
    /// </summary>
    public bool Prepares(NpgsqlConnection? connection)
        => _direct && (connection is null || string.Equals(connection.ConnectionString, dataSource.ConnectionString, StringComparison.Ordinal));
}
