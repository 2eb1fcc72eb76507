namespace Jobs.Sdk;

/// <summary>Runs jobs of type <typeparamref name="TJob"/>. Resolved from a new DI scope for every job.</summary>
/// <typeparam name="TJob">The job type.</typeparam>
public interface IJobHandler<in TJob>
{
    /// <summary>Runs one attempt of the job.</summary>
    /// <param name="job">The job's data.</param>
    /// <param name="context">Id, attempt, timings and logger of this run.</param>
    /// <param name="cancellationToken">
    /// Cancelled on timeout, when the job is cancelled by a user, when the worker loses the job's lease, and when
    /// a graceful shutdown runs out of time (the job then goes back to pending for another worker).
    /// </param>
    Task HandleAsync(TJob job, JobContext context, CancellationToken cancellationToken);
}
