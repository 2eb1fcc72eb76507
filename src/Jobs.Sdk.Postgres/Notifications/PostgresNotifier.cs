using System.Security.Cryptography;
using System.Text;
using Jobs.Sdk.Drivers;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Jobs.Sdk.Postgres;

/// <summary>
/// A queue's notifications: names its LISTEN/NOTIFY channel, keeps one listening connection (reconnecting with
/// backoff, pinging on silence), turns what arrives into wake-ups of this process's workers and cancel requests of its
/// running jobs, and stands in for NOTIFY in poll-only mode (where it only wakes this process).
/// </summary>
internal sealed class PostgresNotifier
{
    private static readonly TimeSpan ListenerKeepAlive = TimeSpan.FromSeconds(30);

    private readonly NpgsqlDataSource _dataSource;
    private readonly ILogger _logger;
    private readonly Func<CancellationToken, Task> _waitUntilReady;
    private readonly CancellationToken _stopping;
    private readonly WakeSignal _wake;
    private readonly TimeProvider _time;
    private readonly string _listenSql;
    private readonly Lock _lock = new();
    private readonly PushAnnouncer? _announcer;
    private Task? _listener;
    private Action<JobId>? _runningJobCancelled;

    /// <param name="dataSource">Where to listen.</param>
    /// <param name="schema">The schema (part of the channel name).</param>
    /// <param name="queue">The queue (part of the channel name).</param>
    /// <param name="listen">False in poll-only mode: no listener, no NOTIFY.</param>
    /// <param name="pollInterval">The longest idle wait.</param>
    /// <param name="time">The clock of wake-up times.</param>
    /// <param name="logger">Logger.</param>
    /// <param name="waitUntilReady">The schema gate: the listener starts once the schema is usable.</param>
    /// <param name="stopping">Cancelled when the driver is disposed.</param>
    public PostgresNotifier(NpgsqlDataSource dataSource, string schema, string queue, bool listen, TimeSpan pollInterval, TimeProvider time,
        ILogger logger, Func<CancellationToken, Task> waitUntilReady, CancellationToken stopping)
    {
        _dataSource = dataSource;
        _logger = logger;
        _waitUntilReady = waitUntilReady;
        _stopping = stopping;
        _time = time;
        _wake = new WakeSignal(pollInterval, time);
        var channel = ChannelName(schema, queue);
        Channel = listen ? channel : null;
        _announcer = listen ? new PushAnnouncer(dataSource, channel, time, logger, stopping) : null;
        _listenSql = "LISTEN \"" + channel.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
    }

    /// <summary>The channel statements NOTIFY, or null in poll-only mode (statements then send nothing).</summary>
    public string? Channel { get; }

    /// <summary>Raised (on the thread pool) when a user asks to cancel a job that is running.</summary>
    public event Action<JobId>? RunningJobCancelled
    {
        add
        {
            _runningJobCancelled += value;
            EnsureListener();
        }
        remove => _runningJobCancelled -= value;
    }

    /// <summary>
    /// The LISTEN/NOTIFY channel of a queue: <c>jobs:{schema}:{queue}</c> when that fits PostgreSQL's 63-byte limit,
    /// else a hash of both.
    /// </summary>
    public static string ChannelName(string schema, string queue)
    {
        var name = "jobs:" + schema + ":" + queue;
        if (Encoding.UTF8.GetByteCount(name) <= 63 && !name.Contains('"', StringComparison.Ordinal))
        {
            return name;
        }

        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(schema + "\0" + queue));
        return "jobs:" + Convert.ToHexStringLower(hash.AsSpan(0, 20));
    }

    /// <summary>Waits for work: a notification, the earliest known due time, or one poll interval.</summary>
    public Task WaitForWorkAsync(CancellationToken cancellationToken)
    {
        EnsureListener();
        return _wake.WaitAsync(cancellationToken, _stopping);
    }

    /// <summary>Jobs became due now. Wakes this process's workers in poll-only mode (otherwise the statement's NOTIFY does).</summary>
    public void JobsDue()
    {
        if (Channel is null)
        {
            _wake.Signal();
        }
    }

    /// <summary>
    /// Jobs were pushed and committed. <paramref name="announce"/>: their statement sent no NOTIFY (pushes outside a
    /// caller's transaction), so announce them now with one coalesced NOTIFY of their own (<see cref="PushAnnouncer"/>).
    /// In poll-only mode this process's workers wake now, or when the earliest falls due.
    /// </summary>
    public void JobsPushed(IReadOnlyList<JobPushRecord> jobs, bool announce)
    {
        if (Channel is not null)
        {
            if (announce)
            {
                _announcer!.Pushed(jobs);
            }

            return;
        }

        var now = _time.GetUtcNow();
        var earliest = DateTimeOffset.MaxValue;
        foreach (var job in jobs)
        {
            if (job.RunAt is not { } runAt || runAt <= now)
            {
                _wake.Signal();
                return;
            }

            if (runAt < earliest)
            {
                earliest = runAt;
            }
        }

        _wake.WakeAt(earliest.ToUnixTimeMilliseconds());
    }

    /// <summary>A requeued job falls due after <paramref name="delay"/>: idle waits of this process end then.</summary>
    public void JobDueAfter(TimeSpan delay) => _wake.WakeAt(_time.GetUtcNow().ToUnixTimeMilliseconds() + (long)delay.TotalMilliseconds);

    /// <summary>A running job got a cancel request. In poll-only mode tells this process's workers (otherwise the NOTIFY does).</summary>
    public void CancelRequested(JobId id)
    {
        if (Channel is null)
        {
            RaiseRunningJobCancelled(id);
        }
    }

    /// <summary>Stops the listener (the driver cancelled <c>stopping</c> first) and ends idle waits.</summary>
    public async Task StopAsync()
    {
        _wake.Release();
        if (Volatile.Read(ref _listener) is { } listener)
        {
            await listener.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private void EnsureListener()
    {
        if (Channel is null || Volatile.Read(ref _listener) is not null || _stopping.IsCancellationRequested)
        {
            return;
        }

        lock (_lock)
        {
            _listener ??= Task.Run(ListenLoopAsync);
        }
    }

    private async Task ListenLoopAsync()
    {
        var stop = _stopping;
        var failures = 0;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await _waitUntilReady(stop).ConfigureAwait(false);
                var connection = await _dataSource.OpenConnectionAsync(stop).ConfigureAwait(false);
                await using (connection.ConfigureAwait(false))
                {
                    connection.Notification += OnNotification;
                    try
                    {
                        await using (var listen = new NpgsqlCommand(_listenSql, connection))
                        {
                            await listen.ExecuteNonQueryAsync(stop).ConfigureAwait(false);
                        }

                        PostgresLog.Listening(_logger, Channel!);
                        failures = 0;

                        // Anything pushed while we were not listening would be missed: look once.
                        _wake.Signal();
                        while (!stop.IsCancellationRequested)
                        {
                            if (!await connection.WaitAsync(ListenerKeepAlive, stop).ConfigureAwait(false))
                            {
                                // Silence: make sure the connection is still alive (half-open sockets, server restarts).
                                await using var ping = new NpgsqlCommand("SELECT 1", connection);
                                await ping.ExecuteNonQueryAsync(stop).ConfigureAwait(false);
                            }
                        }
                    }
                    finally
                    {
                        connection.Notification -= OnNotification;
                    }
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                break;
            }
            catch (JobQueueUnavailableException)
            {
                // The schema is not usable: workers fail with that error; nothing to listen for.
                break;
            }
            catch (Exception ex)
            {
                var delay = PostgresRetry.Backoff(++failures);
                PostgresLog.ListenerFailed(_logger, ex, delay);
                try
                {
                    await Task.Delay(delay, _time, stop).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }
    }

    private void OnNotification(object sender, NpgsqlNotificationEventArgs e)
    {
        if (!JobNotification.TryParse(e.Payload, out var notification))
        {
            PostgresLog.BadNotification(_logger, e.Payload);
            return;
        }

        switch (notification.Kind)
        {
            case JobNotificationKind.Due:
                _wake.Signal();
                break;
            case JobNotificationKind.DueAt:
                _wake.WakeAt(notification.DueAtUnixMs);
                break;
            case JobNotificationKind.CancelRequested:
                RaiseRunningJobCancelled(notification.JobId);
                break;
        }
    }

    private void RaiseRunningJobCancelled(JobId id)
    {
        var handler = _runningJobCancelled;
        if (handler is null)
        {
            return;
        }

        // Handlers cancel tokens, which runs user callbacks: keep them off the listener's connection thread.
        ThreadPool.UnsafeQueueUserWorkItem(static state =>
        {
            var (logger, h, jobId) = state;
            try
            {
                h(jobId);
            }
            catch (Exception ex)
            {
                PostgresLog.CancelHandlerFailed(logger, ex, jobId);
            }
        }, (_logger, handler, id), preferLocal: false);
    }
}
