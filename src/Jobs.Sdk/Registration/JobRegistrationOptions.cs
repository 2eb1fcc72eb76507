namespace Jobs.Sdk;

/// <summary>Per-job overrides given at registration.</summary>
public sealed class JobRegistrationOptions
{
    /// <summary>The retry strategy for this job (overrides <see cref="JobAttribute.MaxAttempts"/> and the queue default).</summary>
    public IJobRetryStrategy? RetryStrategy { get; set; }

    /// <summary>Per-attempt timeout (overrides <see cref="JobAttribute.TimeoutSeconds"/>).</summary>
    public TimeSpan? Timeout { get; set; }
}
