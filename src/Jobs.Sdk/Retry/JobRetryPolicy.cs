using Jobs.Sdk.Drivers;

namespace Jobs.Sdk;

/// <summary>
/// The one place that decides a job's attempt limit (at push) and whether a failed attempt runs again (at failure).
/// </summary>
/// <remarks>
/// <para><b>Limit</b>, stored with the job when it is pushed: the first that is set of
/// <see cref="JobOptions.MaxAttempts"/>, the registration's <see cref="JobRegistrationOptions.RetryStrategy"/>'s
/// <see cref="IJobRetryStrategy.MaxAttempts"/>, <see cref="JobAttribute.MaxAttempts"/>, and the queue's
/// <see cref="JobQueueOptions.DefaultRetryStrategy"/>'s <see cref="IJobRetryStrategy.MaxAttempts"/>.</para>
/// <para><b>Retry</b>, after attempt <c>n</c> fails: the strategy is the registration's, else the queue default, bound to the
/// stored limit with <see cref="IJobRetryStrategy.WithMaxAttempts"/>. The job runs again when <c>n &lt; limit</c> and the
/// strategy's <see cref="IJobRetryStrategy.ShouldRetry"/> agrees, after its <see cref="IJobRetryStrategy.GetDelay"/>.</para>
/// </remarks>
internal sealed class JobRetryPolicy
{
    private readonly JobRegistry _registry;
    private readonly JobQueueOptions _options;

    public JobRetryPolicy(JobRegistry registry, JobQueueOptions options)
    {
        _registry = registry;
        _options = options;
    }

    /// <summary>The attempt limit to store with a pushed job.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><see cref="JobOptions.MaxAttempts"/> is less than 1.</exception>
    public int MaxAttemptsFor(string jobName, int? typeMaxAttempts, JobOptions push)
    {
        if (push.MaxAttempts is { } explicitMax)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(explicitMax, 1, "options.MaxAttempts");
            return explicitMax;
        }

        if (_registry.TryGet(jobName, out var definition) && definition.RetryStrategy is { } strategy)
        {
            return strategy.MaxAttempts;
        }

        return typeMaxAttempts ?? _options.DefaultRetryStrategy.MaxAttempts;
    }

    /// <summary>
    /// Whether and when the failed attempt <see cref="ClaimedJob.Attempt"/> of <paramref name="job"/> runs again. A strategy
    /// that throws (a bug in user code) must not leave the attempt without an outcome: the queue's default strategy decides
    /// instead (the built-in backoff when that one threw), and <paramref name="strategyError"/> reports what was thrown.
    /// </summary>
    public JobRetryDecision Decide(JobDefinition definition, ClaimedJob job, Exception error, out Exception? strategyError)
    {
        strategyError = null;
        var registered = definition.RetryStrategy;
        try
        {
            return Decide(registered ?? _options.DefaultRetryStrategy, job, error);
        }
        catch (Exception ex)
        {
            strategyError = ex;
        }

        if (registered is not null)
        {
            try
            {
                return Decide(_options.DefaultRetryStrategy, job, error);
            }
            catch (Exception)
            {
                // The queue default threw too: the built-in backoff below.
            }
        }

        return Decide(BuiltIn, job, error);
    }

    /// <summary>The last resort when the configured strategies throw.</summary>
    private static readonly IJobRetryStrategy BuiltIn = JobRetryStrategy.ExponentialJitter();

    private static JobRetryDecision Decide(IJobRetryStrategy strategy, ClaimedJob job, Exception error)
    {
        if (job.MaxAttempts >= 1)
        {
            strategy = strategy.WithMaxAttempts(job.MaxAttempts);
        }

        return job.Attempt < job.MaxAttempts && strategy.ShouldRetry(job.Attempt, error)
            ? new JobRetryDecision(true, strategy.GetDelay(job.Attempt, error))
            : default;
    }
}

/// <summary>The retry decision for one failed attempt.</summary>
/// <param name="Retry">Whether the job runs again.</param>
/// <param name="Delay">How long to wait first.</param>
internal readonly record struct JobRetryDecision(bool Retry, TimeSpan Delay);
