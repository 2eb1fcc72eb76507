namespace Jobs.Sdk.Postgres;

/// <summary>
/// When idle workers of this process wake up. Every <see cref="Signal"/> bumps a generation and completes the current
/// wait with it; <see cref="WaitAsync"/> returns at once while a generation it has not consumed exists, so a wake-up that
/// arrives between two waits is never lost. <see cref="WakeAt"/> remembers the earliest known due time of a delayed job,
/// so idle waits end then instead of after a whole poll interval. Time comes from the driver's <see cref="TimeProvider"/>.
/// A wait for a due time never ends before it (a claim then would find the job not yet due, and the due time would be
/// forgotten until the next poll): due times are kept to the tick, and callers that know one only to the millisecond
/// pass the end of that millisecond.
/// </summary>
internal sealed class WakeSignal(TimeSpan pollInterval, TimeProvider time)
{
    private readonly Lock _lock = new();
    private TaskCompletionSource<long> _signal = NewSignal();
    private long _generation;
    private long _consumed;
    private long _wakeAt = long.MaxValue; // UTC ticks
    private volatile bool _polled;

    /// <summary>
    /// Whether the last <see cref="WaitAsync"/> ended because a whole poll interval passed (nothing signalled work, no
    /// known due time came): the claim after it is a poll, which may find nothing.
    /// </summary>
    public bool LastWaitWasPoll => _polled;

    private long Now => time.GetUtcNow().UtcTicks;

    /// <summary>Wakes the waiting workers now.</summary>
    public void Signal()
    {
        lock (_lock)
        {
            _generation++;
            var old = _signal;
            _signal = NewSignal();
            old.TrySetResult(_generation);
        }
    }

    /// <summary>Remembers that a delayed job falls due at <paramref name="dueAt"/>, so that idle waits end then.</summary>
    public void WakeAt(DateTimeOffset dueAt)
    {
        var ticks = dueAt.UtcTicks;
        lock (_lock)
        {
            if (ticks >= _wakeAt)
            {
                return;
            }

            _wakeAt = ticks;
            // A wait in progress ends by itself within one poll interval; only cut it short when the job is due earlier.
            if (ticks < Now + pollInterval.Ticks)
            {
                var old = _signal;
                _signal = NewSignal();
                old.TrySetResult(_consumed);
            }
        }
    }

    /// <summary>Ends the current wait without a new generation (used at shutdown).</summary>
    public void Release()
    {
        lock (_lock)
        {
            _signal.TrySetResult(_consumed);
        }
    }

    /// <summary>Waits until a signal, the earliest known due time, or one poll interval, whichever comes first.</summary>
    public async Task WaitAsync(CancellationToken cancellationToken, CancellationToken stopping)
    {
        Task<long> signal;
        TimeSpan wait;
        lock (_lock)
        {
            _polled = false;
            if (_generation != _consumed)
            {
                _consumed = _generation;
                return;
            }

            signal = _signal.Task;
            wait = pollInterval;
            if (_wakeAt != long.MaxValue)
            {
                var untilDue = TimeSpan.FromTicks(_wakeAt - Now);
                if (untilDue <= TimeSpan.Zero)
                {
                    _wakeAt = long.MaxValue;
                    return;
                }

                if (untilDue < wait)
                {
                    // Whole milliseconds, rounded up: timers drop the fraction, which would end the wait early.
                    wait = TimeSpan.FromMilliseconds(Math.Ceiling(untilDue.TotalMilliseconds));
                }
            }
        }

        if (cancellationToken.IsCancellationRequested)
        {
            return;
        }

        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, stopping);
        // One timer beside the signal, removed by WaitAsync itself when the signal comes first. (A Task.Delay raced with
        // the signal had to be cancelled after a wake-up: CancelAsync ran the timer's cancellation as a thread-pool work
        // item and the wait awaited it, one more thread-pool hop between every notification and its claim.)
        Task signalled = signal;
        await signalled.WaitAsync(wait, time, cts.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _polled = !signal.IsCompleted && wait == pollInterval && !cancellationToken.IsCancellationRequested;
        lock (_lock)
        {
            if (signal.IsCompletedSuccessfully && signal.Result > _consumed)
            {
                _consumed = signal.Result;
            }

            if (_wakeAt != long.MaxValue && _wakeAt <= Now)
            {
                _wakeAt = long.MaxValue;
            }
        }
    }

    private static TaskCompletionSource<long> NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
