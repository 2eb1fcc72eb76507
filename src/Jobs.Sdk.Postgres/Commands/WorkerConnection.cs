using System.Data;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Jobs.Sdk.Postgres;

/// <summary>
/// The connection of the data source that a worker host keeps open for one queue's claims and lease renewals while the
/// queue has work. Handlers often use the same data source (their own queries, pushes inside their transactions); while
/// they held every pooled connection, a renewal that waited in the pool's queue behind them timed out, the leases ended
/// and the handlers were cancelled, their jobs run again; and a claim that waited there came back with its lease (counted
/// from when it was sent) already over, its jobs not started. On a connection of their own, neither waits for the pool.
/// </summary>
/// <remarks>
/// <para>Reserved only in a host with workers (<see cref="Reserve"/>, by <see cref="PostgresWorkerPoolCheck"/>), one per
/// queue the workers serve; the first claim opens it, before any handler of that queue runs. Without a reservation (a
/// driver used on its own) claims and renewals take a pooled connection, as every other statement does.</para>
/// <para>The claim loop and the heartbeat take turns on it: a renewal every third of a lease waits at most for one claim,
/// and a claim for one renewal. A claim costs what it did (a held connection instead of one rented from the pool). A
/// connection that broke is opened again by its next user, from the pool. A claim of a limited queue waits for its lock
/// (the queue's claim lock, its token bucket row) at most <see cref="ClaimLockWait.For"/> its lease, then finds nothing
/// (<see cref="ClaimLockWait"/>): waiting until its command timed out while another session held the lock, it kept the
/// renewals from their turn, and the leases of the queue's running jobs ended. A renewal locks only the rows of its own
/// running jobs, which other sessions lock for a moment (an outcome write, an operator's action), and waits for one at
/// most as long: a row held longer (an operator's open transaction that updated it) is skipped, the other rows renewed,
/// on the same turn (<see cref="HeldLeaseRows"/>). Outcome writes do not use this connection.</para>
/// <para>An idle queue gives it back (<see cref="PostgresJobDriverOptions.HeldConnectionIdleTimeout"/>): a host serving
/// many queues held one server connection per queue even when none had work. Idle means that no claim found a job and no
/// renewal ran for the idle timeout and for a whole lease: while a job of the queue runs or waits in the buffer, the
/// heartbeat renews its lease every third of a lease (a renewal that hangs is abandoned after a quarter), so a queue with
/// work is never idle, and one whose heartbeat stalled longer has lost its leases anyway. The claim that finds the queue
/// idle closes the connection at its end, still holding the turn: no claim or renewal can be on it meanwhile, and a
/// disposal waits for the turn as before. An idle queue's claims each open a connection from the pool and close it again;
/// the first one that finds jobs keeps it.</para>
/// <para>An idle queue's polls take turns with the other idle queues' polls of the driver (<paramref name="idleClaims"/>, one
/// per driver and its views; <paramref name="polling"/>: the claim follows a wait that ended after a whole poll interval):
/// queues started together poll at the same instants, and each renting a pooled connection at once made the pool keep (or
/// reopen after each pruning) one server connection per queue, which is what giving the held connections back is for. In
/// turns, one pooled connection serves every idle queue's polls; a poll waits at most for the other idle queues' polls,
/// each a round trip that finds nothing (a limited queue's poll that waits for its lock gives up within the same bound). A claim woken by a push or a due time does not take the turn: it has work, and
/// must not wait behind a round of polls.</para>
/// </remarks>
internal sealed class WorkerConnection(NpgsqlDataSource dataSource, ReadOnlyPoolReset readOnlyReset, TimeSpan idleTimeout, TimeProvider time,
    ILogger log, string queue, SemaphoreSlim idleClaims, Func<bool> polling) : IAsyncDisposable
{
    private readonly SemaphoreSlim _turn = new(1, 1);
    private NpgsqlConnection? _connection;
    private volatile bool _reserved;
    private volatile bool _disposed;
    private long _lastWork; // timestamp of the last renewal or claim that found jobs (or of the reservation)
    private long _leaseTicks; // the lease of the last claim, in timestamp ticks

    /// <summary>A worker host serves this queue: its claims and renewals use a connection of their own from now on.</summary>
    public void Reserve()
    {
        Volatile.Write(ref _lastWork, time.GetTimestamp());
        _reserved = true;
    }

    /// <summary>
    /// Runs a lease renewal on the reserved connection (opened first when it is not open), or with <see langword="null"/>
    /// (a pooled connection of its own) when nothing is reserved or the driver is being disposed. A renewal means the
    /// queue has work: its connection is kept.
    /// </summary>
    public Task<T> RunAsync<T>(Func<NpgsqlConnection?, CancellationToken, Task<T>> run, CancellationToken cancellationToken)
    {
        if (!_reserved || _disposed)
        {
            return run(null, cancellationToken);
        }

        Volatile.Write(ref _lastWork, time.GetTimestamp());
        return UseAsync(run, null, cancellationToken);
    }

    /// <summary>
    /// Runs a claim as <see cref="RunAsync"/> does; one whose result <paramref name="foundJobs"/> says found none gives the
    /// connection back to the pool when the queue is idle (see the remarks).
    /// </summary>
    public Task<T> ClaimAsync<T>(Func<NpgsqlConnection?, CancellationToken, Task<T>> run, Func<T, bool> foundJobs, TimeSpan leaseDuration,
        CancellationToken cancellationToken)
    {
        if (!_reserved || _disposed)
        {
            return run(null, cancellationToken);
        }

        Volatile.Write(ref _leaseTicks, (long)(leaseDuration.TotalSeconds * time.TimestampFrequency));
        return UseAsync(run, foundJobs, cancellationToken);
    }

    private async Task<T> UseAsync<T>(Func<NpgsqlConnection?, CancellationToken, Task<T>> run, Func<T, bool>? foundJobs, CancellationToken cancellationToken)
    {
        var idle = false;
        var idleClaimTurn = false;
        await _turn.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_disposed)
            {
                return await run(null, cancellationToken).ConfigureAwait(false); // the driver is being disposed: hold nothing more
            }

            if (foundJobs is not null && _connection is null && polling() && IsIdle())
            {
                // An idle queue's poll, on a connection it rents from the pool: in turns with the other idle queues' polls.
                await idleClaims.WaitAsync(cancellationToken).ConfigureAwait(false);
                idleClaimTurn = true;
            }

            var connection = _connection;
            var held = true; // opened before this statement: the server may have ended it while it idled
            if (connection is not { State: ConnectionState.Open })
            {
                held = false;
                _connection = null;
                if (connection is not null)
                {
                    await connection.DisposeAsync().ConfigureAwait(false); // broken: a statement on it failed
                }

                connection = _connection = await dataSource.OpenConnectionRecheckingAsync(cancellationToken).ConfigureAwait(false);
            }

            try
            {
                T result;
                try
                {
                    result = await run(connection, cancellationToken).ConfigureAwait(false);
                }
                catch (PostgresException ex) when (held && IdleSessionRetry.SessionEnded(ex))
                {
                    // The server ended the held connection while it waited for this statement (a role's or database's
                    // idle_session_timeout shorter than the queue's quiet spells): nothing of the statement ran. It runs once
                    // more on a new connection, instead of failing the claim or renewal (a warning and a backoff at every
                    // quiet spell).
                    _connection = null;
                    await connection.DisposeAsync().ConfigureAwait(false);
                    connection = await dataSource.OpenConnectionRecheckingAsync(cancellationToken).ConfigureAwait(false);
                    _connection = connection;
                    result = await run(connection, cancellationToken).ConfigureAwait(false);
                }

                if (foundJobs is not null)
                {
                    if (foundJobs(result))
                    {
                        Volatile.Write(ref _lastWork, time.GetTimestamp());
                    }
                    else
                    {
                        idle = IsIdle();
                    }
                }

                return result;
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
            if (_disposed || idle)
            {
                // Disposed while this statement ran, or the queue is idle: give the connection back now. Still within the
                // turn: no claim or renewal is on it, and the next one opens a connection again.
                if (await CloseAsync().ConfigureAwait(false) && idle && !_disposed)
                {
                    PostgresLog.HeldConnectionReleased(log, queue, time.GetElapsedTime(Volatile.Read(ref _lastWork)));
                }
            }

            if (idleClaimTurn)
            {
                idleClaims.Release();
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

    /// <summary>
    /// Whether the queue is idle: no claim found a job and no renewal ran for the idle timeout and for a whole lease (a
    /// queue with jobs renews their leases every third of one).
    /// </summary>
    private bool IsIdle()
    {
        if (idleTimeout == Timeout.InfiniteTimeSpan)
        {
            return false;
        }

        var quiet = Math.Max((long)(idleTimeout.TotalSeconds * time.TimestampFrequency), Volatile.Read(ref _leaseTicks));
        return time.GetTimestamp() - Volatile.Read(ref _lastWork) >= quiet;
    }

    /// <summary>Closes the connection (back to the pool); whether one was open.</summary>
    private async ValueTask<bool> CloseAsync()
    {
        if (Interlocked.Exchange(ref _connection, null) is { } connection)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            return true;
        }

        return false;
    }
}
