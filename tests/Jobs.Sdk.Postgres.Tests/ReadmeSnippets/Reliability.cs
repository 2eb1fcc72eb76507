using Jobs.Sdk;

// README.md's code, compiled (ReadmeCodeBlockTests checks README shows each region verbatim): "Retries, rescheduling and
// timeouts", "Cancellation, pause and resume", "Retention and cleanup", "Middleware".
namespace ReadmeSnippets.Reliability;

/// <summary>The job the README's retry strategy is registered for.</summary>
[Job("charge-card")]
public partial record ChargeCard(string OrderId);

/// <summary>Its handler.</summary>
public sealed class ChargeCardHandler : IJobHandler<ChargeCard>
{
    /// <inheritdoc />
    public Task HandleAsync(ChargeCard job, JobContext context, CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>The README's own strategy: retries timeouts only.</summary>
public sealed class RetryOnlyTransient(int maxAttempts) : IJobRetryStrategy
{
    /// <inheritdoc />
    public int MaxAttempts => maxAttempts;

    /// <inheritdoc />
    public bool ShouldRetry(int attempt, Exception error) => error is TimeoutException;

    /// <inheritdoc />
    public TimeSpan GetDelay(int attempt, Exception error) => TimeSpan.FromSeconds(attempt);
}

/// <summary>A middleware the README registers as an instance.</summary>
public sealed class AuditMiddleware : IJobMiddleware;

/// <summary>A middleware the README registers by type.</summary>
public sealed class TenantMiddleware : IJobMiddleware;

internal static class Reliability
{
    // Compiled, never called.
    internal static void Register(JobsBuilder jobs)
    {
        #region readme-retry-strategy
        jobs.AddJob<ChargeCard, ChargeCardHandler>(o => o.RetryStrategy = new RetryOnlyTransient(maxAttempts: 6));
        #endregion

        #region readme-retention
        jobs.UseInMemory(o => o.Retention = new RetentionPolicy { CompletedJobs = Retain.Yes });
        #endregion

        #region readme-middleware
        jobs.AddMiddleware(new AuditMiddleware()).AddMiddleware<TenantMiddleware>();
        #endregion
    }

    // Compiled, never called.
    internal static void Reschedule()
    {
        #region readme-reschedule
        throw new JobRescheduleException(TimeSpan.FromMinutes(1), RescheduleAttempts.Keep); // or Reset, Increment
        #endregion
    }

    // Compiled, never called.
    internal static async Task Manage(JobQueue queue, JobId id)
    {
        #region readme-cancel-pause-resume
        await queue.CancelAsync(id);   // a waiting job never runs; a running one has its CancellationToken cancelled, on any node
        await queue.PauseAsync(id);    // off the queue until resumed
        await queue.ResumeAsync(id);   // back, with its priority and run time
        #endregion

        #region readme-cleanup
        await queue.CleanupAsync(new CleanupOptions
        {
            CompletedJobs = CleanupAction.RemoveOlderThan(TimeSpan.FromDays(7)),
            FailedJobs = CleanupAction.Rerun,
        });
        #endregion
    }
}
