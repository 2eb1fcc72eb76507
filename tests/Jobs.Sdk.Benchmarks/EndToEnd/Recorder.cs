using System.Collections.Concurrent;
using System.Diagnostics;

namespace Jobs.Sdk.Benchmarks.EndToEnd;

/// <summary>
/// Counts handler runs per sequence number (so a drain can prove every job ran exactly once), records start − enqueue
/// latencies, samples RSS at 10k, 100k and 1M runs, and lets the benchmark await a run count.
/// </summary>
internal sealed class Recorder
{
    private readonly int[] _runs;
    private readonly ConcurrentQueue<double> _latenciesMs = new();
    private readonly ConcurrentQueue<long> _seqs = new();
    private readonly List<(long Target, TaskCompletionSource Done)> _waiters = [];
    private readonly Lock _lock = new();
    private long _count;
    private long _outOfRange;

    public Recorder(int jobs, bool keepSequence = false, bool recordStarts = false)
    {
        _runs = new int[jobs];
        KeepSequence = keepSequence;
        StartTicks = recordStarts ? new long[jobs] : null;
    }

    /// <summary>When asked for: the <see cref="Stopwatch"/> timestamp at which each sequence number's handler ran.</summary>
    public long[]? StartTicks { get; }

    public bool ReportRss { get; init; }

    /// <summary>Keeps every sequence number seen (a child worker process reports them to its parent).</summary>
    public bool KeepSequence { get; }

    public long Count => Interlocked.Read(ref _count);

    public long? RssMbAt10k { get; private set; }

    public long? RssMbAt100k { get; private set; }

    public long? RssMbAt1M { get; private set; }

    public IEnumerable<long> Sequence => _seqs;

    public void Record(BenchJob job)
    {
        if (job.EnqueuedAtTicks != 0)
        {
            _latenciesMs.Enqueue(Stopwatch.GetElapsedTime(job.EnqueuedAtTicks).TotalMilliseconds);
        }

        RecordSeq(job.Seq);
    }

    public void RecordSeq(long seq)
    {
        if (KeepSequence)
        {
            _seqs.Enqueue(seq);
        }

        if (seq >= 0 && seq < _runs.Length)
        {
            if (StartTicks is { } starts)
            {
                starts[seq] = Stopwatch.GetTimestamp();
            }

            Interlocked.Increment(ref _runs[seq]);
        }
        else if (seq >= 0)
        {
            Interlocked.Increment(ref _outOfRange);
        }

        var n = Interlocked.Increment(ref _count);
        if (ReportRss && n is 10_000 or 100_000 or 1_000_000)
        {
            var mb = Environment.WorkingSet / (1024 * 1024);
            switch (n)
            {
                case 10_000: RssMbAt10k = mb; break;
                case 100_000: RssMbAt100k = mb; break;
                default: RssMbAt1M = mb; break;
            }
        }

        lock (_lock)
        {
            for (var i = _waiters.Count - 1; i >= 0; i--)
            {
                if (n >= _waiters[i].Target)
                {
                    _waiters[i].Done.TrySetResult();
                    _waiters.RemoveAt(i);
                }
            }
        }
    }

    /// <summary>Completes when at least <paramref name="target"/> runs were recorded.</summary>
    public Task ReachAsync(long target, TimeSpan timeout)
    {
        lock (_lock)
        {
            if (Count >= target)
            {
                return Task.CompletedTask;
            }

            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((target, done));
            return done.Task.WaitAsync(timeout);
        }
    }

    public double[] TakeLatencies()
    {
        var list = new List<double>();
        while (_latenciesMs.TryDequeue(out var ms))
        {
            list.Add(ms);
        }

        var sorted = list.ToArray();
        Array.Sort(sorted);
        return sorted;
    }

    /// <summary>Null when every job 0..N-1 ran exactly once, else what went wrong.</summary>
    public string? Verify()
    {
        long missing = 0, twice = 0;
        foreach (var runs in _runs)
        {
            if (runs == 0)
            {
                missing++;
            }
            else if (runs > 1)
            {
                twice++;
            }
        }

        var unknown = Interlocked.Read(ref _outOfRange);
        return missing == 0 && twice == 0 && unknown == 0
            ? null
            : $"{missing} job(s) never ran, {twice} ran more than once, {unknown} unknown sequence number(s)";
    }

    /// <summary>Nearest-rank percentile of sorted values; null when empty.</summary>
    public static double? Percentile(double[] sorted, double p)
    {
        if (sorted.Length == 0)
        {
            return null;
        }

        var rank = (int)Math.Ceiling(p / 100 * sorted.Length);
        return sorted[Math.Clamp(rank, 1, sorted.Length) - 1];
    }
}
