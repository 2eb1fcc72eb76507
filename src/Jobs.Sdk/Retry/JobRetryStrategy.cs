namespace Jobs.Sdk;

/// <summary>Built-in retry strategies.</summary>
public static class JobRetryStrategy
{
    /// <summary>Never retry: the first failure is final.</summary>
    public static IJobRetryStrategy None { get; } = new NoRetryStrategy();

    /// <summary>
    /// Exponential backoff with jitter: after attempt <c>n</c> fails, wait <c>min(2^n s, maxBackoff) × (1 ± jitter)</c>.
    /// Retries while <c>attempt &lt; maxAttempts</c>.
    /// </summary>
    public static IJobRetryStrategy ExponentialJitter(int maxAttempts = 4, TimeSpan? maxBackoff = null, double jitter = 0.5)
        => new ExponentialJitterRetryStrategy(maxAttempts, maxBackoff ?? TimeSpan.FromSeconds(120), jitter);

    private sealed class NoRetryStrategy : IJobRetryStrategy
    {
        public int MaxAttempts => 1;
        public bool ShouldRetry(int attempt, Exception error) => false;
        public TimeSpan GetDelay(int attempt, Exception error) => TimeSpan.Zero;
    }
}

/// <summary>Exponential backoff with jitter (the default strategy).</summary>
public sealed class ExponentialJitterRetryStrategy : IJobRetryStrategy
{
    /// <summary>Creates the strategy.</summary>
    public ExponentialJitterRetryStrategy(int maxAttempts, TimeSpan maxBackoff, double jitter)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxAttempts, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBackoff, TimeSpan.Zero);
        if (jitter is < 0 or >= 1)
        {
            throw new ArgumentOutOfRangeException(nameof(jitter), jitter, "Jitter must be in [0, 1).");
        }

        MaxAttempts = maxAttempts;
        MaxBackoff = maxBackoff;
        Jitter = jitter;
    }

    /// <inheritdoc />
    public int MaxAttempts { get; }
    /// <summary>The longest wait between attempts (before jitter).</summary>
    public TimeSpan MaxBackoff { get; }
    /// <summary>Relative jitter: the wait is multiplied by a random factor in <c>[1 - jitter, 1 + jitter)</c>.</summary>
    public double Jitter { get; }

    /// <inheritdoc />
    public bool ShouldRetry(int attempt, Exception error) => attempt < MaxAttempts;

    /// <inheritdoc />
    public IJobRetryStrategy WithMaxAttempts(int maxAttempts)
        => maxAttempts == MaxAttempts ? this : new ExponentialJitterRetryStrategy(maxAttempts, MaxBackoff, Jitter);

    /// <inheritdoc />
    public TimeSpan GetDelay(int attempt, Exception error)
    {
        var seconds = Math.Min(Math.Pow(2, Math.Min(attempt, 62)), MaxBackoff.TotalSeconds);
#pragma warning disable CA5394 // jitter is not security-sensitive
        var factor = 1 + ((Random.Shared.NextDouble() * 2) - 1) * Jitter;
#pragma warning restore CA5394
        // A cap near TimeSpan.MaxValue ("no cap"), jittered upwards, is past what a TimeSpan holds: the longest one instead.
        var delay = seconds * factor;
        return delay < LongestDelaySeconds ? TimeSpan.FromSeconds(delay) : TimeSpan.MaxValue;
    }

    /// <summary>A second under <see cref="TimeSpan.MaxValue"/>: <see cref="TimeSpan.FromSeconds(double)"/> takes every wait below it.</summary>
    private static readonly double LongestDelaySeconds = TimeSpan.MaxValue.TotalSeconds - 1;
}
