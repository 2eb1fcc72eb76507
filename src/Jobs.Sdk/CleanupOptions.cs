namespace Jobs.Sdk;

/// <summary>What <see cref="JobQueue.CleanupAsync(CleanupOptions, CancellationToken)"/> does with the jobs in one state.</summary>
public sealed record CleanupAction
{
    private CleanupAction(CleanupActionKind kind, TimeSpan? maxAge)
    {
        Kind = kind;
        MaxAge = maxAge;
    }

    /// <summary>Leave the jobs alone.</summary>
    public static CleanupAction DoNothing { get; } = new(CleanupActionKind.DoNothing, null);

    /// <summary>Delete every job in the state.</summary>
    public static CleanupAction Remove { get; } = new(CleanupActionKind.Remove, null);

    /// <summary>Put the jobs back on the queue as pending with attempt 1 and no error, keeping priority.</summary>
    public static CleanupAction Rerun { get; } = new(CleanupActionKind.Rerun, null);

    /// <summary>Delete jobs last changed longer than <paramref name="maxAge"/> ago.</summary>
    public static CleanupAction RemoveOlderThan(TimeSpan maxAge)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxAge, TimeSpan.Zero);
        return new(CleanupActionKind.Remove, maxAge);
    }

    /// <summary>The action.</summary>
    public CleanupActionKind Kind { get; }

    /// <summary>For <see cref="CleanupActionKind.Remove"/>: only jobs older than this (by last change).</summary>
    public TimeSpan? MaxAge { get; }
}

/// <summary>Kinds of <see cref="CleanupAction"/>.</summary>
public enum CleanupActionKind
{
    /// <summary>Nothing.</summary>
    DoNothing,
    /// <summary>Delete (optionally only older than a max age).</summary>
    Remove,
    /// <summary>Queue again from attempt 1.</summary>
    Rerun,
}

/// <summary>
/// One cleanup pass over a queue: an action per state. Everything defaults to <see cref="CleanupAction.DoNothing"/>.
/// Touching pending or processing jobs while workers run is allowed but rarely what you want.
/// </summary>
public sealed record CleanupOptions
{
    /// <summary>Pending (including delayed) jobs.</summary>
    public CleanupAction PendingJobs { get; init; } = CleanupAction.DoNothing;
    /// <summary>
    /// Running jobs. <see cref="CleanupAction.Rerun"/> requeues only those whose lease ended (their worker died); a job a
    /// live worker holds is left alone. <see cref="CleanupAction.Remove"/> (and <see cref="CleanupAction.RemoveOlderThan"/>)
    /// deletes those whose lease ended at once, as the lease rescue would; a job a live worker holds is removed as an
    /// operator's delete (<see cref="JobAdmin.DeleteAsync(JobSelection, AuditInfo?, CancellationToken)"/>) removes it: its handler's token is cancelled at once, and
    /// it stays processing (cancel and delete requested) with its slot in its key's <c>ConcurrencyLimit</c> and its queue's
    /// <c>GlobalConcurrency</c> until its handler really returned, then its row is deleted, whatever the outcome (or by the
    /// lease rescue, should its worker die first). So a limit holds while a removed handler unwinds or ignores its token.
    /// </summary>
    public CleanupAction ProcessingJobs { get; init; } = CleanupAction.DoNothing;
    /// <summary>Jobs waiting for a retry.</summary>
    public CleanupAction RetryingJobs { get; init; } = CleanupAction.DoNothing;
    /// <summary>Completed jobs kept by retention.</summary>
    public CleanupAction CompletedJobs { get; init; } = CleanupAction.DoNothing;
    /// <summary>Failed jobs kept by retention.</summary>
    public CleanupAction FailedJobs { get; init; } = CleanupAction.DoNothing;
    /// <summary>Cancelled jobs kept by retention.</summary>
    public CleanupAction CancelledJobs { get; init; } = CleanupAction.DoNothing;
    /// <summary>Paused jobs.</summary>
    public CleanupAction PausedJobs { get; init; } = CleanupAction.DoNothing;

    /// <summary>The action for one state.</summary>
    public CleanupAction For(JobState state) => state switch
    {
        JobState.Pending => PendingJobs,
        JobState.Processing => ProcessingJobs,
        JobState.Retrying => RetryingJobs,
        JobState.Completed => CompletedJobs,
        JobState.Failed => FailedJobs,
        JobState.Cancelled => CancelledJobs,
        JobState.Paused => PausedJobs,
        _ => CleanupAction.DoNothing,
    };
}
