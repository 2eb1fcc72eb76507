namespace Jobs.Sdk;

/// <summary>Whether finished jobs of one state are kept in the store.</summary>
public enum Retain
{
    /// <summary>Delete the job when it reaches the state.</summary>
    No,
    /// <summary>Keep the job (clean it up later with <see cref="JobQueue.CleanupAsync(CleanupOptions, CancellationToken)"/>).</summary>
    Yes,
}

/// <summary>What the store keeps once a job has finished. Defaults: keep failed; drop completed and cancelled.</summary>
public sealed record RetentionPolicy
{
    /// <summary>Completed jobs; <see cref="Retain.No"/> by default.</summary>
    public Retain CompletedJobs { get; init; } = Retain.No;
    /// <summary>Failed jobs; <see cref="Retain.Yes"/> by default.</summary>
    public Retain FailedJobs { get; init; } = Retain.Yes;
    /// <summary>Cancelled jobs; <see cref="Retain.No"/> by default.</summary>
    public Retain CancelledJobs { get; init; } = Retain.No;
}
