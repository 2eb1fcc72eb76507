namespace Jobs.Sdk.Postgres;

/// <summary>
/// When idle workers of this process wake up. Every <see cref="Signal"/> bumps a generation and completes the current
/// wait with it; <see cref="WaitAsync"/> returns at once while a generation it has not consumed exists, so a wake-up that
/// arrives between two waits is never lost. <see cref="WakeAt"/> remembers the earliest known due time of a delayed job,
/// so idle waits end then instead of after a whole poll interval. Time comes from the driver's <see cref="TimeProvider"/>.
/// A due time is a whole millisecond, rounded from the job's run time (down, or to the nearest), so a wait for it ends
/// only once that millisecond is over: a claim at its very start could find the job not yet due, and the due time would
/// be forgotten until the next poll.
/// </summary>
internal sealed class WakeSignal(TimeSpan pollInterval, TimeProvider time)
{
    private readonly Lock _lock = new();
    private TaskCompletionSource<long> _signal = NewSignal();
    private long _generation;
    private long _consumed;
    private long _wakeAtMs = long.MaxValue;

    private long NowMs => time.GetUtcNow().ToUnixTimeMilliseconds();

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

    /// <summary>Remembers that a delayed job falls due at <paramref name="unixMs"/>, so that idle waits end then.</summary>
    public void WakeAt(long unixMs)
    {
        lock (_lock)
        {
            if (unixMs >= _wakeAtMs)
            {
                return;
            }

            _wakeAtMs = unixMs;
            // A wait in progress ends by itself within one poll interval; only cut it short when the job is due earlier.
            if (unixMs < NowMs + (long)pollInterval.TotalMilliseconds)
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
            if (_generation != _consumed)
            {
                _consumed = _generation;
                return;
            }

            signal = _signal.Task;
            wait = pollInterval;
            if (_wakeAtMs != long.MaxValue)
            {
                var untilDue = TimeSpan.FromMilliseconds(_wakeAtMs + 1 - NowMs);
                if (untilDue <= TimeSpan.Zero)
                {
                    _wakeAtMs = long.MaxValue;
                    return;
                }

                if (untilDue < wait)
                {
                    wait = untilDue;
                }
            }
        }

        if (cancellationToken.IsCancellationRequested)
        {
            return;
        }

        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, stopping);
        var delay = Task.Delay(wait, time, cts.Token);
        await Task.WhenAny(signal, delay).ConfigureAwait(false);
        await cts.CancelAsync().ConfigureAwait(false);
        lock (_lock)
        {
            if (signal.IsCompletedSuccessfully && signal.Result > _consumed)
            {
                _consumed = signal.Result;
            }

            if (_wakeAtMs != long.MaxValue && _wakeAtMs < NowMs)
            {
                _wakeAtMs = long.MaxValue;
            }
        }
    }

    private static TaskCompletionSource<long> NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
