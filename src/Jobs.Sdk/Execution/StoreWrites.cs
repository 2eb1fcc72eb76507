namespace Jobs.Sdk;

/// <summary>
/// Whether the store has taken a worker's writes lately: its claim loop, heartbeat, outcome writer and rescuer report each
/// write that failed (the store away, read-only, failing over) and each that got through. The rescuer asks it before a pass
/// (<see cref="WorkingFor"/>).
/// </summary>
/// <remarks>
/// After an outage every lease held across it has ended on the server, and the workers that hold them learn that writes
/// work again only at their next try (a renewal every third of a lease, an outcome retry within
/// <see cref="WorkerDelay.MaxBackoff"/>). A rescue that came first would requeue a job whose handler already returned (its
/// outcome waiting to be written), and the job would run twice.
/// </remarks>
internal sealed class StoreWrites(TimeProvider time)
{
    private long _failedAt; // the last failed write (0: none yet)
    private long _workingSince; // the first write that got through after it (0: none yet)

    /// <summary>A write failed: the store is away (or refuses writes) until one gets through.</summary>
    public void Failed()
    {
        Interlocked.Exchange(ref _failedAt, Math.Max(time.GetTimestamp(), 1));
        Interlocked.Exchange(ref _workingSince, 0);
    }

    /// <summary>A write got through.</summary>
    public void Worked() => Interlocked.CompareExchange(ref _workingSince, Math.Max(time.GetTimestamp(), 1), 0);

    /// <summary>
    /// Whether writes have worked for at least <paramref name="span"/> since the last one failed (true when none failed).
    /// </summary>
    public bool WorkingFor(TimeSpan span)
    {
        if (Interlocked.Read(ref _failedAt) == 0)
        {
            return true;
        }

        var since = Interlocked.Read(ref _workingSince);
        return since != 0 && time.GetElapsedTime(since) >= span;
    }
}
