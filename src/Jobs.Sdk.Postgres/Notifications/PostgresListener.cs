using Microsoft.Extensions.Logging;
using Npgsql;

namespace Jobs.Sdk.Postgres;

/// <summary>
/// The driver's one listening connection, shared by every queue it serves: LISTENs on each registered queue's channel
/// (reconnecting with backoff, pinging on silence) and hands each notification to the <see cref="PostgresNotifier"/> of
/// its channel. A queue registered while connected makes the loop reconnect at once with the new channel added.
/// </summary>
internal sealed class PostgresListener(NpgsqlDataSource dataSource, ILogger logger, TimeProvider time, Func<CancellationToken, Task> waitUntilReady,
    CancellationToken stopping)
{
    private static readonly TimeSpan ListenerKeepAlive = TimeSpan.FromSeconds(30);

    private readonly Lock _lock = new();
    private readonly Dictionary<string, PostgresNotifier> _notifiers = new(StringComparer.Ordinal);
    private CancellationTokenSource? _relisten;
    private Task? _loop;

    /// <summary>1 when <see cref="Reconnect"/> asked for a new connection (a new queue only adds its channel to the open one).</summary>
    private int _reconnect;

    /// <summary>Listens on <paramref name="notifier"/>'s channel too (from the next connection on, which starts now if one is open).</summary>
    public void Register(PostgresNotifier notifier)
    {
        CancellationTokenSource? relisten;
        lock (_lock)
        {
            _notifiers[notifier.Channel!] = notifier;
            relisten = _relisten;
        }

        try
        {
            relisten?.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // That connection attempt just ended; the next one listens on the new channel too.
        }
    }

    /// <summary>
    /// Drops the listening connection and connects again at once (when one is open): the driver cleared its pool because
    /// the server refused a write (<see cref="ReadOnlyPoolReset"/>), and after a failover behind one host name this
    /// connection would otherwise stay on the old server, which still answers its pings but hears no push of the new
    /// primary: workers would find new jobs only at their next poll.
    /// </summary>
    public void Reconnect()
    {
        CancellationTokenSource? relisten;
        Volatile.Write(ref _reconnect, 1);
        lock (_lock)
        {
            relisten = _relisten;
        }

        try
        {
            relisten?.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // That connection attempt just ended; the next one is new anyway.
        }
    }

    /// <summary>Starts the listening loop unless it runs (or the driver stops).</summary>
    public void EnsureStarted()
    {
        if (Volatile.Read(ref _loop) is not null || stopping.IsCancellationRequested)
        {
            return;
        }

        lock (_lock)
        {
            _loop ??= Task.Run(ListenLoopAsync);
        }
    }

    /// <summary>Waits for the loop to end (the driver cancelled <c>stopping</c> first) and ends every queue's idle waits.</summary>
    public async Task StopAsync()
    {
        PostgresNotifier[] notifiers;
        lock (_lock)
        {
            notifiers = [.. _notifiers.Values];
        }

        foreach (var notifier in notifiers)
        {
            notifier.Stop();
        }

        if (Volatile.Read(ref _loop) is { } loop)
        {
            await loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private async Task ListenLoopAsync()
    {
        var failures = 0;
        var ready = false;
        var idleEnded = false; // the last connection's first statement met the server's end of its idle session
        while (!stopping.IsCancellationRequested)
        {
            var relisten = CancellationTokenSource.CreateLinkedTokenSource(stopping);
            PostgresNotifier[] notifiers;
            Volatile.Write(ref _reconnect, 0);
            lock (_lock)
            {
                _relisten = relisten;
                notifiers = [.. _notifiers.Values];
            }

            try
            {
                // Connect while the schema gate runs (start-up: the connection is ready when the first push is announced).
                var connection = await dataSource.OpenConnectionRecheckingAsync(stopping).ConfigureAwait(false);
                await using (connection.ConfigureAwait(false))
                {
                    await waitUntilReady(stopping).ConfigureAwait(false);
                    ready = true;
                    var (refusesWrites, keepAlive) = await ReadSessionAsync(connection, stopping).ConfigureAwait(false);
                    if (refusesWrites)
                    {
                        // The old primary after a failover, its name not moved yet (or a server read-only for a while): it
                        // hears no push of the new primary. Look again after a pause, as after a lost connection.
                        throw new ReadOnlyServerException();
                    }

                    connection.Notification += OnNotification;
                    try
                    {
                        var listened = new HashSet<string>(StringComparer.Ordinal);
                        await ListenAsync(connection, notifiers, listened).ConfigureAwait(false);
                        failures = 0;
                        idleEnded = false;
                        while (true)
                        {
                            try
                            {
                                while (!relisten.IsCancellationRequested)
                                {
                                    if (!await connection.WaitAsync(keepAlive, relisten.Token).ConfigureAwait(false))
                                    {
                                        // Silence: make sure the connection is still alive (half-open sockets, server restarts).
                                        var ping = new NpgsqlCommand("SELECT 1", connection);
                                        await using var pingDisposal = ping.ConfigureAwait(false);
                                        await ping.ExecuteNonQueryAsync(relisten.Token).ConfigureAwait(false);
                                    }
                                }
                            }
                            catch (OperationCanceledException) when (relisten.IsCancellationRequested && !stopping.IsCancellationRequested)
                            {
                            }

                            if (Volatile.Read(ref _reconnect) != 0 || connection.FullState != System.Data.ConnectionState.Open)
                            {
                                throw new OperationCanceledException(relisten.Token); // Reconnect: a new connection, every channel
                            }

                            // Queues were added: LISTEN on their channels on this connection, not on every channel again on a new one.
                            var next = CancellationTokenSource.CreateLinkedTokenSource(stopping);
                            lock (_lock)
                            {
                                _relisten = next;
                                notifiers = [.. _notifiers.Values.Where(n => !listened.Contains(n.Channel!))];
                            }

                            relisten.Dispose();
                            relisten = next;
                            if (Volatile.Read(ref _reconnect) != 0)
                            {
                                // Reconnect() set its flag before it read the source just disposed (its Cancel missed):
                                // reconnect all the same.
                                relisten.Cancel();
                                continue;
                            }

                            await ListenAsync(connection, notifiers, listened).ConfigureAwait(false);
                        }
                    }
                    finally
                    {
                        connection.Notification -= OnNotification;
                    }
                }
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                break;
            }
            catch (OperationCanceledException) when (relisten.IsCancellationRequested)
            {
                // A queue was added, or the pool was cleared (Reconnect): reconnect at once listening on every channel.
            }
            catch (ReadOnlyServerException)
            {
                try
                {
                    await Task.Delay(PostgresRetry.Backoff(++failures), time, stopping).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
            catch (JobQueueUnavailableException)
            {
                // The schema is not usable: workers fail with that error; nothing to listen for.
                break;
            }
            catch (Exception) when (!ready && !stopping.IsCancellationRequested)
            {
                // Not connected before the schema was ready (the database is not reachable yet): the gate retries; connect
                // again as soon as it succeeds, as if the listener had waited for it.
                try
                {
                    await waitUntilReady(stopping).ConfigureAwait(false);
                    ready = true;
                }
                catch (Exception)
                {
                    break; // disposed, or the schema is not usable: nothing to listen for
                }
            }
            catch (PostgresException ex) when (IdleSessionRetry.SessionEnded(ex) && !idleEnded)
            {
                // The server had ended the connection while it waited (a pooled connection idle past the session's
                // idle_session_timeout, or the wait for the schema gate): nothing ran on it. Connect again at once, once.
                idleEnded = true;
            }
            catch (Exception ex)
            {
                var delay = PostgresRetry.Backoff(++failures);
                PostgresLog.ListenerFailed(logger, ex, delay);
                try
                {
                    await Task.Delay(delay, time, stopping).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
            finally
            {
                lock (_lock)
                {
                    _relisten = null;
                }

                relisten.Dispose();
            }
        }
    }

    /// <summary>
    /// LISTENs on the channels of <paramref name="notifiers"/> not in <paramref name="listened"/> yet, in one round trip
    /// (a host of a thousand queues sent a thousand), and tells those queues they are heard.
    /// </summary>
    private async Task ListenAsync(NpgsqlConnection connection, IReadOnlyList<PostgresNotifier> notifiers, HashSet<string> listened)
    {
        var added = notifiers.Where(n => listened.Add(n.Channel!)).ToArray();
        if (added.Length == 0)
        {
            return;
        }

        var batch = new NpgsqlBatch(connection);
        await using (batch.ConfigureAwait(false))
        {
            foreach (var notifier in added)
            {
                batch.BatchCommands.Add(new NpgsqlBatchCommand("LISTEN \"" + notifier.Channel!.Replace("\"", "\"\"", StringComparison.Ordinal) + "\""));
            }

            await batch.ExecuteNonQueryAsync(stopping).ConfigureAwait(false);
        }

        foreach (var notifier in added)
        {
            PostgresLog.Listening(logger, notifier.Channel!);
            notifier.Listening();
        }
    }

    /// <summary>
    /// Whether the server refuses writes, and how long the connection may stay silent before a ping: 30 s, or half the
    /// session's <c>idle_session_timeout</c> (PostgreSQL 14+, set on the role or the database) when that is shorter. The
    /// server ends a session idle for that long, and the listener's session is idle between notifications: it lost its
    /// connection at every timeout (reconnecting after a backoff, pushes meanwhile waking no worker). A ping keeps it
    /// without changing the session's settings. One round trip, as the read-only check alone was.
    /// </summary>
    private static async Task<(bool RefusesWrites, TimeSpan KeepAlive)> ReadSessionAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var command = new NpgsqlCommand(
            "SELECT current_setting('transaction_read_only') = 'on', " +
            "(SELECT setting::bigint FROM pg_settings WHERE name = 'idle_session_timeout')", connection);
        await using var commandDisposal = command.ConfigureAwait(false);
        var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using var readerDisposal = reader.ConfigureAwait(false);
        await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        var refusesWrites = reader.GetBoolean(0);
        var idleTimeout = reader.IsDBNull(1) ? 0 : reader.GetInt64(1); // milliseconds; 0 (or NULL before PostgreSQL 14): none
        var keepAlive = idleTimeout > 0 && TimeSpan.FromMilliseconds(idleTimeout / 2.0) < ListenerKeepAlive
            ? TimeSpan.FromMilliseconds(Math.Max(1, idleTimeout / 2.0))
            : ListenerKeepAlive;
        return (refusesWrites, keepAlive);
    }

    /// <summary>The listening connection reached a server that refuses writes.</summary>
    private sealed class ReadOnlyServerException : Exception;

    private void OnNotification(object sender, NpgsqlNotificationEventArgs e)
    {
        PostgresNotifier? notifier;
        lock (_lock)
        {
            _notifiers.TryGetValue(e.Channel, out notifier);
        }

        notifier?.OnNotification(e.Payload);
    }
}
