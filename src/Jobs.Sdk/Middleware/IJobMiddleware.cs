namespace Jobs.Sdk;

/// <summary>
/// Hooks around a job's life: push, pop (claimed and decoded), handle (wraps execution, first registered is
/// outermost) and completion (success or final failure; not called for a retry). Every member has a no-op default.
/// </summary>
/// <remarks>
/// One error policy: <see cref="HandleAsync"/> is part of the attempt (its exception fails the attempt, like the
/// handler's). <see cref="OnPushAsync"/>, <see cref="OnPopAsync"/> and <see cref="OnCompletedAsync"/> are observers: each
/// runs after the fact it reports is stored, in registration order, and an exception from one is logged and changes
/// nothing (the push still succeeds, the job still runs, the outcome stays recorded, later observers still run).
/// </remarks>
public interface IJobMiddleware
{
    /// <summary>Called after a job is stored: on push (attempt 1) and after a failed attempt's retry is written. Observer: exceptions are logged.</summary>
    ValueTask OnPushAsync(JobPushContext context, CancellationToken cancellationToken) => default;

    /// <summary>
    /// Called when a worker has claimed a job, after decoding (<see cref="JobPopContext.Error"/> is set on failure). Observer:
    /// exceptions are logged. It runs within the job's timeout: <paramref name="cancellationToken"/> is cancelled when the
    /// attempt times out (or is cancelled, or the worker stops), and an attempt that times out here ends as a timed-out
    /// attempt without running its handler.
    /// </summary>
    ValueTask OnPopAsync(JobPopContext context, CancellationToken cancellationToken) => default;

    /// <summary>Wraps the handler. Call <paramref name="next"/> to continue; not calling it skips the job (counts as success).</summary>
    Task HandleAsync(JobExecutionContext context, Func<Task> next, CancellationToken cancellationToken) => next();

    /// <summary>
    /// Called once a job has finished for good (success, final failure, or cancellation) and that outcome is written; not for
    /// retries. Observer: exceptions are logged. <paramref name="cancellationToken"/> is cancelled when the worker's stop stops
    /// waiting for observers (after its <see cref="JobWorkerOptions.ShutdownTimeout"/>).
    /// </summary>
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
