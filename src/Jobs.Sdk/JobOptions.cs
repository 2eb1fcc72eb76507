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

    /// <summary>
    /// The queue of this one job, overriding the job type's <see cref="JobAttribute.Queue"/>; <see langword="null"/> keeps
    /// it. Any text without NUL characters or unpaired surrogates and without whitespace at either end (<c>"emails "</c>
    /// would be another queue than <c>"emails"</c>), at most 1,000 bytes of UTF-8 (stored as a value, never spliced into SQL).
    /// </summary>
    public string? Queue { get; init; }

    /// <summary>
    /// Makes this push unique under this key (overriding the key the job type's <see cref="UniqueKeyAttribute"/> members
    /// give): nothing is inserted while a job of the same type and key is waiting or running in the queue (and, for a
    /// <see cref="JobAttribute.Unique"/> type, for <see cref="JobAttribute.UniqueFor"/> seconds after it finished). Any text
    /// without unpaired surrogates (stored as a hash of its UTF-8, which has no form for them).
    /// </summary>
    public string? UniqueKey { get; init; }

    /// <summary>
    /// The concurrency key of this push, used exactly as given (not scoped by job name, so job types that use the same
    /// key share its limit), overriding the key of the type's <see cref="ConcurrencyKeyAttribute"/> members. It takes
    /// effect with a limit: the job type's <see cref="JobAttribute.ConcurrencyLimit"/>, or 1 when the type sets none.
    /// <see langword="null"/> keeps the type's key. No NUL characters or unpaired surrogates, at most 1,000 bytes of UTF-8
    /// (PostgreSQL indexes it).
    /// </summary>
    public string? ConcurrencyKey { get; init; }
}
