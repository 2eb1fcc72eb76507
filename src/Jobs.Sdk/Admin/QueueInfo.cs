namespace Jobs.Sdk;

/// <summary>One queue of the store (<see cref="JobAdmin.GetQueuesAsync(CancellationToken)"/>, a page of them: <see cref="JobAdmin.GetQueuesAsync(int, string?, CancellationToken)"/>; <see cref="JobQueue.GetQueuesAsync"/>).</summary>
public sealed record QueueInfo
{
    /// <summary>The queue name.</summary>
    public required string Name { get; init; }
    /// <summary>Whether claims are paused for the whole cluster.</summary>
    public bool IsPaused { get; init; }
    /// <summary>Why it was paused.</summary>
    public string? PausedReason { get; init; }
    /// <summary>Since when it is paused.</summary>
    public DateTimeOffset? PausedAt { get; init; }
    /// <summary>Jobs per state.</summary>
    public required JobCounts Counts { get; init; }
    /// <summary>How long the oldest due job (pending or retrying, run time passed) has been waiting; <see langword="null"/> when none is due.</summary>
    public TimeSpan? OldestWaitingAge { get; init; }
    /// <summary>Live workers serving the queue.</summary>
    public int WorkerCount { get; init; }
}
