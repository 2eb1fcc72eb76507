namespace Jobs.Sdk;

/// <summary>
/// The adaptive prefetch of a worker (<see cref="JobWorkerOptions.AdaptivePrefetch"/>, the default): how many jobs to claim
/// beyond the free slots, so that runners do not sit idle while the next claim is in flight. It keeps about two claim
/// round trips of work in the buffer: <c>Concurrency × 2 × claim time ÷ job time</c>, at most
/// <see cref="Max"/>. Short jobs get a deep buffer (one claim, one commit, for hundreds
/// of jobs); jobs that take longer than a claim get none, so a buffered job never waits much longer than one claim round
/// trip behind a higher-priority job pushed after it.
/// </summary>
internal sealed class PrefetchSizer(int concurrency)
{
    /// <summary>The deepest adaptive buffer (graphile-worker's documented local queue is 500).</summary>
    public const int Max = 512;

    private const double Smoothing = 0.3;
    private long _jobTicks;
    private long _jobs;
    private double _jobTime = double.NaN;   // EWMA of handler time (Stopwatch ticks)
    private double _claimTime = double.NaN; // EWMA of claim round trips (Stopwatch ticks)

    /// <summary>The buffer size to aim for now (0 until a job has finished).</summary>
    public int Target { get; private set; }

    /// <summary>A runner finished a job that ran for <paramref name="ticks"/> (any thread).</summary>
    public void JobRan(long ticks)
    {
        Interlocked.Add(ref _jobTicks, ticks);
        Interlocked.Increment(ref _jobs);
    }

    /// <summary>A claim round trip took <paramref name="ticks"/> (the claim loop only). Recomputes <see cref="Target"/>.</summary>
    public void Claimed(long ticks)
    {
        _claimTime = Ewma(_claimTime, ticks);
        var jobs = Interlocked.Exchange(ref _jobs, 0);
        var jobTicks = Interlocked.Exchange(ref _jobTicks, 0);
        if (jobs > 0)
        {
            _jobTime = Ewma(_jobTime, Math.Max(1.0, (double)jobTicks / jobs));
        }

        if (double.IsNaN(_jobTime))
        {
            Target = 0;
            return;
        }

        var wanted = concurrency * 2 * _claimTime / _jobTime;
        Target = wanted >= Max ? Max : (int)wanted;
    }

    private static double Ewma(double current, double sample) => double.IsNaN(current) ? sample : current + (Smoothing * (sample - current));
}
