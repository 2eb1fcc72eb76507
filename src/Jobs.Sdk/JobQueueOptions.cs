namespace Jobs.Sdk;

/// <summary>Queue-wide defaults.</summary>
public sealed class JobQueueOptions
{
    /// <summary>
    /// The retry strategy for jobs whose registration and <see cref="JobAttribute"/> say nothing:
    /// exponential backoff with jitter, 4 attempts, at most 120 s between attempts.
    /// </summary>
    public IJobRetryStrategy DefaultRetryStrategy { get; set; } = JobRetryStrategy.ExponentialJitter();

    /// <summary>Longest stored error text (type and message); longer errors are cut. Default 2,000 characters.</summary>
    public int MaxErrorLength { get; set; } = 2000;

    /// <summary>
    /// Longest stored stack trace of a failed attempt (<see cref="JobAttemptError.StackTrace"/>: the exception with its
    /// stack trace and inner exceptions); longer ones are cut. 0 stores none. Default 4,000 characters, at most 8,000.
    /// Only failing attempts pay for it.
    /// </summary>
    public int MaxStackTraceLength { get; set; } = 4000;
}
