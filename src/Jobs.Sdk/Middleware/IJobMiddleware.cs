namespace Jobs.Sdk;

/// <summary>
/// Hooks around a job's life: push, pop (claimed and decoded), handle (wraps execution, first registered is
/// outermost) and completion (success or final failure; not called for a retry). Every member has a no-op default.
/// </summary>
public interface IJobMiddleware
{
    /// <summary>Called after a job is stored: on push (attempt 1) and when a failed attempt is queued again.</summary>
    ValueTask OnPushAsync(JobPushContext context, CancellationToken cancellationToken) => default;

    /// <summary>Called when a worker has claimed a job, after decoding (<see cref="JobPopContext.Error"/> is set on failure).</summary>
    ValueTask OnPopAsync(JobPopContext context, CancellationToken cancellationToken) => default;

    /// <summary>Wraps the handler. Call <paramref name="next"/> to continue; not calling it skips the job (counts as success).</summary>
    Task HandleAsync(JobExecutionContext context, Func<Task> next, CancellationToken cancellationToken) => next();

    /// <summary>Called once a job has finished for good (success, final failure, or cancellation); not for retries.</summary>
    ValueTask OnCompletedAsync(JobCompletedContext context, CancellationToken cancellationToken) => default;
}

/// <summary>What <see cref="IJobMiddleware.OnPushAsync"/> sees.</summary>
/// <param name="JobId">The stored job's id.</param>
/// <param name="JobName">The job name.</param>
/// <param name="QueueName">The queue.</param>
/// <param name="Attempt">The attempt the stored job will run as (1 for a new push).</param>
/// <param name="Job">The job object (for a retry, the decoded job).</param>
/// <param name="Options">The push options.</param>
public sealed record JobPushContext(JobId JobId, string JobName, string QueueName, int Attempt, object Job, JobOptions Options);

/// <summary>What <see cref="IJobMiddleware.OnPopAsync"/> sees.</summary>
/// <param name="JobId">The claimed job's id.</param>
/// <param name="JobName">The job name.</param>
/// <param name="QueueName">The queue.</param>
/// <param name="Attempt">The attempt about to run.</param>
/// <param name="Job">The decoded job, or <see langword="null"/> when decoding failed.</param>
/// <param name="Error">The decode error or unknown-job error, when the job cannot run.</param>
public sealed record JobPopContext(JobId JobId, string JobName, string QueueName, int Attempt, object? Job, Exception? Error);

/// <summary>What <see cref="IJobMiddleware.HandleAsync"/> sees.</summary>
/// <param name="Job">The decoded job.</param>
/// <param name="Context">The run's context.</param>
public sealed record JobExecutionContext(object Job, JobContext Context);

/// <summary>What <see cref="IJobMiddleware.OnCompletedAsync"/> sees.</summary>
/// <param name="JobId">The job id.</param>
/// <param name="JobName">The job name.</param>
/// <param name="QueueName">The queue.</param>
/// <param name="Attempt">The last attempt.</param>
/// <param name="Outcome">How the job ended.</param>
/// <param name="Error">The error of a failed or cancelled job.</param>
public sealed record JobCompletedContext(JobId JobId, string JobName, string QueueName, int Attempt, JobOutcomeKind Outcome, Exception? Error);
