namespace Jobs.Sdk;

/// <summary>Options for one push.</summary>
public sealed record JobOptions
{
    /// <summary>Shared default options (no delay, normal priority).</summary>
    public static JobOptions Default { get; } = new();

    /// <summary>The job does not run before this time. <see langword="null"/> means as soon as possible.</summary>
    public DateTimeOffset? DelayUntil { get; init; }

    /// <summary>Priority among due jobs; <see cref="JobPriority.Normal"/> by default.</summary>
    public JobPriority Priority { get; init; } = JobPriority.Normal;

    /// <summary>Overrides the job type's maximum attempts for this one job.</summary>
    public int? MaxAttempts { get; init; }
}
