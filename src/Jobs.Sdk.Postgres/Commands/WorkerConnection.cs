using System.Data;
using Npgsql;

namespace Jobs.Sdk.Postgres;

/// <summary>
/// The connection of the data source that a worker host keeps open for one queue's claims and lease renewals. Handlers
/// often use the same data source (their own queries, pushes inside their transactions); while they held every pooled
/// connection, a renewal that waited in the pool's queue behind them timed out, the leases ended and the handlers were
/// cancelled, their jobs run again; and a claim that waited there came back with its lease (counted from when it was
/// sent) already over, its jobs not started. On a connection of their own, neither waits for the pool.
/// </summary>
/// <remarks>
/// <para>Reserved only in a host with workers (<see cref="Reserve"/>, by <see cref="PostgresWorkerPoolCheck"/>), one per
/// queue the workers serve; the first claim opens it, before any handler of that queue runs. Without a reservation (a
/// driver used on its own) claims and renewals take a pooled connection, as every other statement does.</para>
/// <para>The claim loop and the heartbeat take turns on it: a renewal every third of a lease waits at most for one claim,
/// and a claim for one renewal. A claim costs what it did (a held connection instead of one rented from the pool). A
/// connection that broke is opened again by its next user, from the pool.</para>
/// </remarks>
internal sealed class WorkerConnection(NpgsqlDataSource dataSource, ReadOnlyPoolReset readOnlyReset) : IAsyncDisposable
{
    private readonly SemaphoreSlim _turn = new(1, 1);
    private NpgsqlConnection? _connection;
    private volatile bool _reserved;
    private volatile bool _disposed;

    /// <summary>A worker host serves this queue: its claims and renewals use a connection of their own from now on.</summary>
    public void Reserve() => _reserved = true;

    /// <summary>
    /// Runs <paramref name="run"/> on the reserved connection (opened first when it is not open), or with <see langword="null"/>
    /// (a pooled connection of its own) when nothing is reserved or the driver is being disposed.
    /// </summary>
    public Task<T> RunAsync<T>(Func<NpgsqlConnection?, CancellationToken, Task<T>> run, CancellationToken cancellationToken)
        => _reserved && !_disposed ? UseAsync(run, cancellationToken) : run(null, cancellationToken);

    private async Task<T> UseAsync<T>(Func<NpgsqlConnection?, CancellationToken, Task<T>> run, CancellationToken cancellationToken)
    {
        await _turn.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_disposed)
            {
                return await run(null, cancellationToken).ConfigureAwait(false); // the driver is being disposed: hold nothing more
            }

            var connection = _connection;
            if (connection is not { State: ConnectionState.Open })
            {
                _connection = null;
                if (connection is not null)
                {
                    await connection.DisposeAsync().ConfigureAwait(false); // broken: a statement on it failed
                }

                connection = _connection = await dataSource.OpenConnectionRecheckingAsync(cancellationToken).ConfigureAwait(false);
            }

            try
            {
                return await run(connection, cancellationToken).ConfigureAwait(false);
            }
            catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.ReadOnlySqlTransaction)
            {
                // The server refuses writes (a failover left this session on the old primary, now a standby or a reader):
                // the pool is cleared (its idle connections are on that server too) and the next user opens a new
                // connection, which a multi-host data source, a DNS name or a VIP points at the current primary. Kept
                // open, the held connection would refuse every claim and renewal for good.
                readOnlyReset.OnFailure(ex);
                _connection = null;
                await connection.DisposeAsync().ConfigureAwait(false);
                throw;
            }
        }
        finally
        {
            if (_disposed)
            {
                await CloseAsync().ConfigureAwait(false); // disposed while this statement ran: give the connection back now
            }

            _turn.Release();
        }
    }

    /// <summary>
    /// Gives the connection back to the pool; when a statement still runs on it after a few seconds (a stop that gave up
    /// waiting for it, a dead socket), the statement's end does.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        _disposed = true; // first: a statement that ends from now on closes the connection itself
        if (!await _turn.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false))
        {
            return;
        }

        try
        {
            await CloseAsync().ConfigureAwait(false);
        }
        finally
        {
            _turn.Release();
        }
    }

    private async ValueTask CloseAsync()
    {
        if (Interlocked.Exchange(ref _connection, null) is { } connection)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
        }
    }
}
