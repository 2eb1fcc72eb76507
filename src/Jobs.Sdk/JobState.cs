namespace Jobs.Sdk;

/// <summary>The life-cycle state of a stored job.</summary>
/// <remarks>The numeric values are stored by drivers (the PostgreSQL <c>state</c> column): never renumber.</remarks>
public enum JobState : short
{
    /// <summary>Waiting to run (possibly delayed until a later time).</summary>
    Pending = 0,
    /// <summary>Claimed by a worker and running under a lease.</summary>
    Processing = 1,
    /// <summary>An attempt failed; waiting for its next attempt. Not a terminal state.</summary>
    Retrying = 2,
    /// <summary>Finished successfully (kept only when retention says so).</summary>
    Completed = 3,
    /// <summary>Failed for good: attempts exhausted, not retryable, or undecodable.</summary>
    Failed = 4,
    /// <summary>Cancelled by a user before or while running.</summary>
    Cancelled = 5,
    /// <summary>Taken off the queue by <see cref="JobQueue.PauseAsync"/> until resumed.</summary>
    Paused = 6,
}
