using Jobs.Sdk.Drivers;
using Microsoft.Extensions.Logging;

namespace Jobs.Sdk;

/// <summary>Why a claimed job's token was cancelled.</summary>
internal enum CancelReason
{
    None,
    Timeout,
    UserCancel,
    LeaseLost,
    Shutdown,
    QueuePaused,
}

/// <summary>
/// One claimed attempt held by a worker: its cancellation (with the reason that fired first), its timeout, its telemetry,
/// and the guarantee that exactly one outcome is reported for it.
/// </summary>
internal sealed class JobRun(ClaimedJob job) : IDisposable
{
    private readonly CancellationTokenSource _cts = new();
    private CancellationTokenSource? _timeout;
    private CancellationTokenRegistration _timeoutRegistration;
    private int _reason;
    private int _finished;
    private long _leaseEnd;
    private long _startedTimestamp;
    private int _startRecorded;
    private int _handedOver; // 0 buffered, 1 taken by a runner, 2 released (its queue was paused before a runner took it)

    public ClaimedJob Job { get; } = job;

    /// <summary>When (a <see cref="TimeProvider"/> timestamp) the claim that took the job returned; 0 when unknown.</summary>
    public long ClaimedTimestamp { get; init; }

    public JobProcessTelemetry? Telemetry { get; set; }

    /// <summary>Where a callback on the handler's token that throws when the job is cancelled is reported.</summary>
    public ILogger? Logger { get; init; }

    public CancellationToken Token => _cts.Token;

    public CancelReason Reason => (CancelReason)Volatile.Read(ref _reason);

    /// <summary>When (a <see cref="TimeProvider"/> timestamp) this worker must consider the lease lost unless renewed.</summary>
    public long LeaseEnd => Interlocked.Read(ref _leaseEnd);

    /// <summary>Moves <see cref="LeaseEnd"/> forward (never back) after a claim or a renewal.</summary>
    public void ExtendLease(long leaseEnd)
    {
        var current = Interlocked.Read(ref _leaseEnd);
        while (leaseEnd > current)
        {
            var seen = Interlocked.CompareExchange(ref _leaseEnd, leaseEnd, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }

    /// <summary>Whether the store knows this claim started (the claim started it, or a renewal reported it): its attempt counts.</summary>
    public bool StartRecorded => Volatile.Read(ref _startRecorded) != 0;

    /// <summary>The store recorded the start (a claim that started it at once, or a renewal that reported it).</summary>
    public void RecordStart() => Volatile.Write(ref _startRecorded, 1);

    /// <summary>The handler starts now (a <see cref="TimeProvider"/> timestamp).</summary>
    public void Start(long timestamp) => Interlocked.CompareExchange(ref _startedTimestamp, Math.Max(timestamp, 1), 0);

    /// <summary>How long the handler has run, when it started and the store does not know it yet; otherwise <see langword="null"/>.</summary>
    public TimeSpan? UnrecordedRunningFor(TimeProvider time)
    {
        var started = Interlocked.Read(ref _startedTimestamp);
        return started == 0 || StartRecorded ? null : time.GetElapsedTime(started);
    }

    /// <summary>Whether the claim waits in the buffer (no runner took it, it was not released).</summary>
    public bool IsWaiting => Volatile.Read(ref _handedOver) == 0;

    /// <summary>A runner takes the claim to start it: false when it was released first.</summary>
    public bool TryTake() => Interlocked.CompareExchange(ref _handedOver, 1, 0) == 0;

    /// <summary>
    /// Releases a claim no runner has taken (its queue was paused): it will not start, and its outcome gives the job back.
    /// False when a runner took it first (it runs to the end).
    /// </summary>
    public bool TryRelease()
    {
        if (Interlocked.CompareExchange(ref _handedOver, 2, 0) != 0)
        {
            return false;
        }

        Cancel(CancelReason.QueuePaused);
        return true;
    }

    /// <summary>
    /// Cancels the handler's token; the first reason wins. The token's callbacks run on the thread pool, not the caller's
    /// thread: a handler's database call stuck in a network partition runs its driver's cancellation (Npgsql sends a cancel
    /// request on a new connection, up to its connection timeout) in its callback, which must hold neither a worker's stop
    /// (it cancels every running job in turn) nor the notification that asked for the cancel.
    /// </summary>
    public void Cancel(CancelReason reason)
    {
        if (Interlocked.CompareExchange(ref _reason, (int)reason, (int)CancelReason.None) == (int)CancelReason.None)
        {
            try
            {
                _cts.CancelInBackground(Logger, $"job {Job.Id} ('{Job.Name}')");
            }
            catch (ObjectDisposedException)
            {
            }
        }
    }

    /// <summary>Cancels the token with <see cref="CancelReason.Timeout"/> after <paramref name="timeout"/>.</summary>
    public void SetTimeout(TimeSpan timeout, TimeProvider time)
    {
        _timeout = new CancellationTokenSource(timeout, time);
        _timeoutRegistration = _timeout.Token.Register(static s => ((JobRun)s!).Cancel(CancelReason.Timeout), this);
    }

    /// <summary>Exactly one outcome is reported per claim: by the handler's end or by shutdown abandonment.</summary>
    public bool TryFinish() => Interlocked.Exchange(ref _finished, 1) == 0;

    /// <summary>The outcome of a job cancelled, lost or shut down before its handler started; <see langword="null"/> when the lease is lost.</summary>
    public JobOutcome? NotStartedOutcome() => Reason switch
    {
        CancelReason.UserCancel => new JobOutcome(Job.Id, JobOutcomeKind.Cancelled, Job.Attempt, Error: "Cancelled before it started.", LeaseToken: Job.LeaseToken),
        CancelReason.LeaseLost => null,
        _ => new JobOutcome(Job.Id, JobOutcomeKind.Release, Job.Attempt, LeaseToken: Job.LeaseToken),
    };

    public void Dispose()
    {
        _timeoutRegistration.Dispose();
        _timeout?.Dispose();
        _cts.Dispose();
    }
}

/// <summary>
/// What running one claimed job produced: the outcome to record (<see langword="null"/> when the lease was lost and
/// there is nothing to report) and the observer hooks to run once the store has recorded it.
/// </summary>
internal readonly record struct JobRunResult(JobOutcome? Outcome, Func<CancellationToken, ValueTask>? OnRecorded = null)
{
    public static implicit operator JobRunResult(JobOutcome outcome) => new(outcome);
}
