namespace Jobs.Sdk;

/// <summary>
/// The prefetch of a worker: how many jobs to claim beyond the free slots, so that runners do not sit idle while the next
/// claim is in flight. Adaptive (<see cref="JobWorkerOptions.AdaptivePrefetch"/>, the default), it keeps about two claim
/// round trips of work in the buffer: <c>Concurrency × 2 × claim time ÷ job time</c>, at most <see cref="Max"/>. Short
/// jobs get a deep buffer (one claim, one commit, for hundreds of jobs); jobs that take longer than a claim get none, so
/// a buffered job never waits much longer than one claim round trip behind a higher-priority job pushed after it. Fixed
/// (<see cref="JobWorkerOptions.Prefetch"/>), it is the count asked for.
/// Either way the buffer holds at most <see cref="JobWorkerOptions.PrefetchMaxBytes"/> of payload, estimated from the
/// payloads of the jobs claimed so far: time alone would buffer hundreds of large payloads when their handlers are fast.
/// </summary>
internal sealed class PrefetchSizer
{
    /// <summary>The deepest adaptive buffer (graphile-worker's documented local queue is 500).</summary>
    public const int Max = 512;

    private const double Smoothing = 0.3;
    private readonly int _concurrency;
    private readonly int? _fixed;
    private readonly long _maxBytes;
    private long _jobTicks;
    private long _jobs;
    private double _jobTime = double.NaN;      // EWMA of handler time (Stopwatch ticks)
    private double _claimTime = double.NaN;    // EWMA of claim round trips (Stopwatch ticks)
    private double _payloadBytes = double.NaN; // a claimed job's payload (bytes): follows a larger mean at once, a smaller one slowly

    private PrefetchSizer(int concurrency, int? fixedCount, long maxBytes)
    {
        _concurrency = concurrency;
        _fixed = fixedCount;
        _maxBytes = maxBytes;
        Target = fixedCount ?? 0;
    }

    /// <summary>The buffer size to aim for now: adaptive, 0 until a job has finished; fixed, the count until payloads are known.</summary>
    public int Target { get; private set; }

    /// <summary>The adaptive prefetch of a worker running <paramref name="concurrency"/> jobs at once.</summary>
    public static PrefetchSizer Adaptive(int concurrency, long maxBytes) => new(concurrency, null, maxBytes);

    /// <summary>A prefetch of <paramref name="count"/> jobs (fewer when their payloads would exceed <paramref name="maxBytes"/>).</summary>
    public static PrefetchSizer Fixed(int count, long maxBytes) => new(0, count, maxBytes);

    /// <summary>A runner finished a job that ran for <paramref name="ticks"/> (any thread).</summary>
    public void JobRan(long ticks)
    {
        if (_fixed is not null)
        {
            return; // a fixed count does not follow job time
        }

        Interlocked.Add(ref _jobTicks, ticks);
        Interlocked.Increment(ref _jobs);
    }

    /// <summary>
    /// A claim round trip took <paramref name="ticks"/> and returned <paramref name="jobs"/> jobs with
    /// <paramref name="payloadBytes"/> of payload in all (the claim loop only). Recomputes <see cref="Target"/>.
    /// </summary>
    public void Claimed(long ticks, int jobs, long payloadBytes)
    {
        if (jobs > 0)
        {
            // The next claim's payloads are not known before it returns: a mean above the estimate replaces it at once (a
            // burst of large jobs shrinks the buffer before the next claim), a smaller one lowers it gradually.
            var mean = Math.Max(1.0, (double)payloadBytes / jobs);
            _payloadBytes = double.IsNaN(_payloadBytes) || mean > _payloadBytes ? mean : Ewma(_payloadBytes, mean);
        }

        Target = Math.Min(_fixed ?? ByTime(ticks), ByBytes());
    }

    /// <summary>The adaptive target: about two claim round trips of work.</summary>
    private int ByTime(long claimTicks)
    {
        _claimTime = Ewma(_claimTime, claimTicks);
        var jobs = Interlocked.Exchange(ref _jobs, 0);
        var jobTicks = Interlocked.Exchange(ref _jobTicks, 0);
        if (jobs > 0)
        {
            _jobTime = Ewma(_jobTime, Math.Max(1.0, (double)jobTicks / jobs));
        }

        if (double.IsNaN(_jobTime))
        {
            return 0;
        }

        var wanted = _concurrency * 2 * _claimTime / _jobTime;
        return wanted >= Max ? Max : (int)wanted;
    }

    /// <summary>How many jobs of the estimated payload fit in the byte budget (no limit before a payload was seen).</summary>
    private int ByBytes()
    {
        if (double.IsNaN(_payloadBytes))
        {
            return int.MaxValue;
        }

        var fit = _maxBytes / _payloadBytes;
        return fit >= int.MaxValue ? int.MaxValue : (int)fit;
    }

    private static double Ewma(double current, double sample) => double.IsNaN(current) ? sample : current + (Smoothing * (sample - current));
}
