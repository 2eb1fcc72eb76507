using System.Security.Cryptography;
using System.Text;
using Jobs.Sdk.Drivers;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Jobs.Sdk.Postgres;

/// <summary>
/// A queue's notifications: names its LISTEN/NOTIFY channel, turns what arrives on it (through the driver's one
/// <see cref="PostgresListener"/> connection, shared by every queue of the driver) into wake-ups of this process's workers
/// of the queue and cancel requests of its running jobs, and stands in for NOTIFY in poll-only mode (where it only wakes
/// this process).
/// </summary>
internal sealed class PostgresNotifier
{
    private readonly ILogger _logger;
    private readonly PostgresListener? _listener;
    private readonly WakeSignal _wake;
    private readonly TimeProvider _time;
    private readonly CancellationToken _stopping;
    private readonly PushAnnouncer? _announcer;
    private readonly string _queue;
    private Action<JobLease>? _runningJobCancelled;
    private Action? _queuePaused;

    /// <param name="dataSource">Where push announcements are sent (<see cref="PushAnnouncer"/>).</param>
    /// <param name="listener">The driver's listening connection; null in poll-only mode (no listener, no NOTIFY).</param>
    /// <param name="schema">The schema (part of the channel name).</param>
    /// <param name="queue">The queue (part of the channel name).</param>
    /// <param name="pollInterval">The longest idle wait.</param>
    /// <param name="time">The clock of wake-up times.</param>
    /// <param name="logger">Logger.</param>
    /// <param name="stopping">Cancelled when the driver is disposed.</param>
    public PostgresNotifier(NpgsqlDataSource dataSource, PostgresListener? listener, string schema, string queue, TimeSpan pollInterval, TimeProvider time, ILogger logger,
        CancellationToken stopping)
    {
        _listener = listener;
        _logger = logger;
        _stopping = stopping;
        _time = time;
        _queue = queue;
        _wake = new WakeSignal(pollInterval, time);
        var channel = ChannelName(schema, queue);
        Channel = listener is null ? null : channel;
        _announcer = listener is null ? null : new PushAnnouncer(dataSource, channel, time, logger, stopping);
        listener?.Register(this);
    }

    /// <summary>The channel statements NOTIFY, or null in poll-only mode (statements then send nothing).</summary>
    public string? Channel { get; }

    /// <summary>Raised (on the thread pool) when the queue was paused (a <c>p</c> notification).</summary>
    public event Action? QueuePaused
    {
        add
        {
            _queuePaused += value;
            _listener?.EnsureStarted();
        }
        remove => _queuePaused -= value;
    }

    /// <summary>Raised (on the thread pool) when a user asks to cancel a job that is running.</summary>
    public event Action<JobLease>? RunningJobCancelled
    {
        add
        {
            _runningJobCancelled += value;
            _listener?.EnsureStarted();
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

    /// <summary>Whether the last <see cref="WaitForWorkAsync"/> ended after a whole poll interval with no sign of work (a poll).</summary>
    public bool LastWaitWasPoll => _wake.LastWaitWasPoll;

    /// <summary>Waits for work: a notification, the earliest known due time, or one poll interval.</summary>
    public Task WaitForWorkAsync(CancellationToken cancellationToken)
    {
        _listener?.EnsureStarted();
        return _wake.WaitAsync(cancellationToken, _stopping);
    }

    /// <summary>
    /// Keyed jobs of this process finished (<c>ConcurrencyLimit</c>): the next jobs of their keys may be claimable now.
    /// Wakes this process's workers, which just freed the slots, in every mode (no NOTIFY is sent for it).
    /// </summary>
    public void KeyedJobsFinished() => _wake.Signal();

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

        _wake.WakeAt(earliest);
    }

    /// <summary>
    /// For a push outside a caller's transaction: the statements that announce <paramref name="jobs"/> in the push's own
    /// round trip, as a transaction after its commit, or null (poll-only mode, or another announcement is in flight: push,
    /// then call <see cref="JobsPushed"/>). After a ride, call <see cref="RideEnded"/> instead (see <see cref="PushAnnouncer"/>).
    /// </summary>
    public IReadOnlyList<NpgsqlBatchCommand>? TryRide(IReadOnlyList<JobPushRecord> jobs) => Channel is null ? null : _announcer!.TryRide(jobs);

    /// <summary>A ride of <see cref="TryRide"/> is over; when its NOTIFY failed (<paramref name="announceFailed"/>), <paramref name="jobs"/> are announced now.</summary>
    public void RideEnded(IReadOnlyList<JobPushRecord> jobs, Exception? announceFailed)
    {
        if (announceFailed is not null)
        {
            PostgresLog.AnnounceFailed(_logger, announceFailed);
        }

        _announcer!.RideEnded(jobs, announced: announceFailed is null);
    }

    /// <summary>A requeued job falls due after <paramref name="delay"/>: idle waits of this process end then.</summary>
    public void JobDueAfter(TimeSpan delay) => _wake.WakeAt(_time.GetUtcNow() + delay);

    /// <summary>
    /// A running job got a cancel request while claim <see cref="JobLease.LeaseToken"/> ran it. In poll-only mode tells this
    /// process's workers (otherwise the NOTIFY does).
    /// </summary>
    public void CancelRequested(JobLease lease)
    {
        if (Channel is null)
        {
            RaiseRunningJobCancelled(lease);
        }
    }

    /// <summary>Ends idle waits (the driver is being disposed).</summary>
    public void Stop() => _wake.Release();

    /// <summary>The listener (re)started listening: anything pushed while it was not may have been missed, so look once.</summary>
    internal void Listening() => _wake.Signal();

    /// <summary>A notification arrived on this queue's channel.</summary>
    internal void OnNotification(string payload)
    {
        if (!JobNotification.TryParse(payload, out var notification))
        {
            PostgresLog.BadNotification(_logger, payload);
            return;
        }

        switch (notification.Kind)
        {
            case JobNotificationKind.Due:
                _wake.Signal();
                break;
            case JobNotificationKind.DueAt:
                // The payload is the due time rounded to a whole millisecond (down, or to the nearest): the job is due
                // by the end of that millisecond.
                _wake.WakeAt(DateTimeOffset.FromUnixTimeMilliseconds(notification.DueAtUnixMs + 1));
                break;
            case JobNotificationKind.CancelRequested:
                RaiseRunningJobCancelled(new JobLease(notification.JobId, notification.LeaseToken));
                break;
            case JobNotificationKind.QueuePaused:
                if (_queuePaused is { } paused)
                {
                    ThreadPool.UnsafeQueueUserWorkItem(static state => RaiseQueuePaused(state.Handlers, state.Logger, state.Queue),
                        (Handlers: paused, Logger: _logger, Queue: _queue), preferLocal: false);
                }

                break;
        }
    }

    /// <summary>
    /// Runs each of <paramref name="handlers"/> on its own (on the thread pool): the event is public, and an app's handler
    /// that throws must neither end the process (an exception on a thread-pool work item does) nor keep the handlers after
    /// it, the worker's among them, from hearing the pause. A pause is rare: the invocation list is read then.
    /// </summary>
    private static void RaiseQueuePaused(Action handlers, ILogger logger, string queue)
    {
        foreach (var handler in handlers.GetInvocationList())
        {
            try
            {
                ((Action)handler)();
            }
            catch (Exception ex)
            {
                PostgresLog.QueuePausedHandlerFailed(logger, ex, queue);
            }
        }
    }

    private void RaiseRunningJobCancelled(JobLease lease)
    {
        var handler = _runningJobCancelled;
        if (handler is null)
        {
            return;
        }

        // Handlers cancel tokens, which runs user callbacks: keep them off the listener's connection thread. Each runs on
        // its own: an app's handler that throws must not keep the handlers after it, the worker's among them, from hearing.
        ThreadPool.UnsafeQueueUserWorkItem(static state =>
        {
            var (logger, handlers, claim) = state;
            foreach (var h in handlers.GetInvocationList())
            {
                try
                {
                    ((Action<JobLease>)h)(claim);
                }
                catch (Exception ex)
                {
                    PostgresLog.CancelHandlerFailed(logger, ex, claim.Id);
                }
            }
        }, (_logger, handler, lease), preferLocal: false);
    }
}
