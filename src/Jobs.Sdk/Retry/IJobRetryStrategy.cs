namespace Jobs.Sdk;

/// <summary>Decides whether and when a failed attempt runs again.</summary>
public interface IJobRetryStrategy
{
    /// <summary>The attempts this strategy allows (used to store the limit with the job for crash rescue).</summary>
    int MaxAttempts { get; }

    /// <summary>Whether to run the job again after <paramref name="attempt"/> failed with <paramref name="error"/>.</summary>
    bool ShouldRetry(int attempt, Exception error);

    /// <summary>How long to wait before the next attempt after <paramref name="attempt"/> failed.</summary>
    TimeSpan GetDelay(int attempt, Exception error);

    /// <summary>
    /// This strategy with its attempt limit set to <paramref name="maxAttempts"/>, the limit stored with the job (from
    /// <see cref="JobOptions.MaxAttempts"/>, the registration, <see cref="JobAttribute.MaxAttempts"/> or the queue default).
    /// The default returns the strategy unchanged: its own <see cref="ShouldRetry"/> then still applies, within the stored limit.
    /// </summary>
    IJobRetryStrategy WithMaxAttempts(int maxAttempts) => this;
}
