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

    /// <summary>
    /// How long entries of the admin audit log (<see cref="JobAdmin.GetAuditLogAsync"/>) are kept; 90 days by default,
    /// <see cref="Timeout.InfiniteTimeSpan"/> keeps them forever. Older entries are deleted by the workers' periodic
    /// maintenance (their lease rescue pass), in bounded batches. The audit log is shared by every queue of a store: when
    /// processes set different values, the shortest wins.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is neither positive nor <see cref="Timeout.InfiniteTimeSpan"/>.</exception>
    public TimeSpan AuditLog
    {
        get => _auditLog;
        init => _auditLog = value > TimeSpan.Zero || value == Timeout.InfiniteTimeSpan
            ? value
            : throw new ArgumentOutOfRangeException(nameof(AuditLog), value,
                "RetentionPolicy.AuditLog must be positive, or Timeout.InfiniteTimeSpan to keep the audit log forever.");
    }

    private readonly TimeSpan _auditLog = TimeSpan.FromDays(90);
}
