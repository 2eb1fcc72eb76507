namespace Jobs.Sdk;

/// <summary>Number of stored jobs per state in one queue.</summary>
public sealed record JobCounts
{
    /// <summary>Pending jobs (due or delayed).</summary>
    public long Pending { get; init; }
    /// <summary>Jobs running now.</summary>
    public long Processing { get; init; }
    /// <summary>Jobs waiting for their next attempt.</summary>
    public long Retrying { get; init; }
    /// <summary>Completed jobs kept by retention.</summary>
    public long Completed { get; init; }
    /// <summary>Failed jobs kept by retention.</summary>
    public long Failed { get; init; }
    /// <summary>Cancelled jobs kept by retention.</summary>
    public long Cancelled { get; init; }
    /// <summary>Paused jobs.</summary>
    public long Paused { get; init; }

    /// <summary>The count for one state.</summary>
    public long this[JobState state] => state switch
    {
        JobState.Pending => Pending,
        JobState.Processing => Processing,
        JobState.Retrying => Retrying,
        JobState.Completed => Completed,
        JobState.Failed => Failed,
        JobState.Cancelled => Cancelled,
        JobState.Paused => Paused,
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, "Unknown job state."),
    };

    /// <summary>Builds counts from (state, count) pairs.</summary>
    public static JobCounts From(IEnumerable<KeyValuePair<JobState, long>> counts)
    {
        ArgumentNullException.ThrowIfNull(counts);
        long[] c = new long[7];
        foreach (var (state, count) in counts)
        {
            c[(int)state] += count;
        }

        return new JobCounts
        {
            Pending = c[0], Processing = c[1], Retrying = c[2], Completed = c[3], Failed = c[4], Cancelled = c[5], Paused = c[6],
        };
    }
}
