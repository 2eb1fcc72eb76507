namespace Jobs.Sdk;

/// <summary>
/// The maintenance passes of the queues one worker host serves (<c>AddQueue</c>, one lane per queue): they take turns, and
/// their timers are spread over the interval, so that a host serving N queues uses one connection for its maintenance
/// instead of N at the same instant.
/// </summary>
/// <remarks>
/// Every lane started its timers at the same moment (the host's start, its first claim), so every rescue pass (rescue,
/// expired holds, count compaction, audit retention) and every unhandled-job check of all the queues fired at once, each
/// on a pooled connection of its own: 11 queues opened 11 more server connections every <see cref="JobWorkerOptions.RescueInterval"/>
/// (an idle host went from 12 to 23), waited in a pool sized to the documented minimum, and made handlers that use the
/// same data source wait behind them. A pass waits for another lane's pass at most one interval (<see cref="EnterAsync"/>):
/// a pass stuck on the store (a lock, a dead socket) never holds the other queues' rescues back longer than that.
/// </remarks>
internal sealed class MaintenanceTurn
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private int _members;

    /// <summary>How many lanes take part (known once the host's worker created its lanes).</summary>
    public int Members => Volatile.Read(ref _members);

    /// <summary>A lane takes part; returns its slot (0 for the first), which places its timers in the interval.</summary>
    public int Join() => Interlocked.Increment(ref _members) - 1;

    /// <summary>
    /// The wait after a lane's first pass: the lanes' first passes ran together (after their first claims), so slot
    /// <paramref name="slot"/> of N waits (slot + 1) / N of the interval, never more than one interval; later waits are
    /// whole intervals, which keeps the lanes that far apart.
    /// </summary>
    public TimeSpan FirstWait(int slot, TimeSpan interval)
    {
        var members = Math.Max(Members, 1);
        var share = (double)(Math.Min(slot, members - 1) + 1) / members; // 1 for the last: exactly one interval
        return TimeSpan.FromTicks((long)(interval.Ticks * share));
    }

    /// <summary>
    /// Waits for the turn at most <paramref name="bound"/>. Returns whether it was taken (then call <see cref="Exit"/>);
    /// <see langword="false"/> when another pass held it that long: the caller runs without it, beside that pass.
    /// </summary>
    /// <exception cref="OperationCanceledException"><paramref name="stop"/> was cancelled.</exception>
    public async Task<bool> EnterAsync(TimeSpan bound, TimeProvider time, CancellationToken stop)
    {
        if (_gate.Wait(0, stop))
        {
            return true;
        }

        using var timeout = new CancellationTokenSource(bound, time);
        using var either = CancellationTokenSource.CreateLinkedTokenSource(stop, timeout.Token);
        try
        {
            await _gate.WaitAsync(either.Token).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException) when (!stop.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>Gives the turn to the next pass.</summary>
    public void Exit() => _gate.Release();
}
