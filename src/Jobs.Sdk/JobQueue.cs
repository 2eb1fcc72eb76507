using System.Data.Common;

namespace Jobs.Sdk;

/// <summary>
/// Pushes jobs and manages queued ones (the producer API). Registered as a singleton by <c>AddJobs</c>; thread-safe.
/// The source generator adds typed <c>Push{Job}Async</c> extension methods on this type.
/// </summary>
public sealed partial class JobQueue
{
    private readonly JobsRuntime _runtime;

    internal JobQueue(JobsRuntime runtime) => _runtime = runtime;

    /// <summary>
    /// The default queue's name (the driver's). Pushes go to <see cref="JobOptions.Queue"/>, else the job type's
    /// <see cref="JobAttribute.Queue"/>, else this queue; lookups by id (get, cancel, pause, resume) search this queue and
    /// then every other queue this process declared (<c>AddQueue</c>), registered or pushed to. Counts and cleanup are
    /// this queue's.
    /// </summary>
    public string QueueName => _runtime.QueueName;

    /// <summary>Pushes one job.</summary>
    /// <returns>The new job's id.</returns>
    /// <remarks>
    /// <para>
    /// A push tells the truth when its answer is lost (for every push method): when <paramref name="cancellationToken"/>
    /// fires after the push was sent (until then it stops the push), or when the connection breaks after the push was
    /// sent (the network drops, the reply is lost, a proxy resets, the server restarts). A push that returns stored its
    /// jobs; a push that throws <see cref="OperationCanceledException"/> or the driver's own exception (such as a
    /// connection error) stored nothing and never will, so retrying it (by hand, or by a retry policy on transient
    /// errors) cannot run a job twice. When the driver cannot find out which (the database out of reach right after),
    /// it throws <see cref="JobPushOutcomeUnknownException"/> instead, no driver exception, so such policies leave it
    /// alone: look its <see cref="JobPushOutcomeUnknownException.JobIds"/> up with <see cref="GetJobAsync"/> before
    /// pushing them again. A push is all or nothing, batches included. In your transaction your commit decides: a
    /// failed push leaves the transaction unable to commit it, and a reply to your own <c>COMMIT</c> lost with its
    /// connection is yours to settle (look the pushed ids up).
    /// </para>
    /// </remarks>
    /// <exception cref="OperationCanceledException">The push was cancelled and nothing was stored.</exception>
    /// <exception cref="JobPushOutcomeUnknownException">
    /// The push's answer was lost after it was sent (it was cancelled, or its connection broke), and whether it was stored is unknown.
    /// </exception>
    public Task<JobId> PushAsync<TJob>(TJob job, JobOptions? options = null, CancellationToken cancellationToken = default)
        where TJob : IJob<TJob>
        => PushCoreAsync(job, null, options, cancellationToken);

    /// <summary>
    /// Pushes one job inside the caller's database transaction: the job exists only if the caller commits.
    /// Supported by the PostgreSQL driver (pass an <c>NpgsqlTransaction</c> on a connection to the same database).
    /// </summary>
    public Task<JobId> PushAsync<TJob>(TJob job, DbTransaction transaction, JobOptions? options = null, CancellationToken cancellationToken = default)
        where TJob : IJob<TJob>
    {
        ArgumentNullException.ThrowIfNull(transaction);
        return PushCoreAsync(job, transaction, options, cancellationToken);
    }

    /// <summary>
    /// Pushes one job and tells whether it was inserted: for a unique job (<see cref="JobAttribute.Unique"/>,
    /// <see cref="JobOptions.UniqueKey"/>) whose key is held by another job, nothing is inserted and the result carries
    /// that job's id with <see cref="JobPushResult.Inserted"/> false. Other pushes always insert.
    /// </summary>
    /// <remarks>A lost answer (cancellation, connection loss) tells the truth, as for <see cref="PushAsync{TJob}(TJob, JobOptions?, CancellationToken)"/>.</remarks>
    public Task<JobPushResult> TryPushAsync<TJob>(TJob job, JobOptions? options = null, CancellationToken cancellationToken = default)
        where TJob : IJob<TJob>
        => TryPushCoreAsync(job, null, options, cancellationToken);

    /// <summary>
    /// <see cref="TryPushAsync{TJob}(TJob, JobOptions?, CancellationToken)"/> inside the caller's database transaction
    /// (PostgreSQL driver): the job exists only if the caller commits.
    /// </summary>
    public Task<JobPushResult> TryPushAsync<TJob>(TJob job, DbTransaction transaction, JobOptions? options = null, CancellationToken cancellationToken = default)
        where TJob : IJob<TJob>
    {
        ArgumentNullException.ThrowIfNull(transaction);
        return TryPushCoreAsync(job, transaction, options, cancellationToken);
    }

    /// <summary>Pushes many jobs in one batch (any size; drivers stream large batches).</summary>
    /// <returns>The new ids, in input order.</returns>
    /// <remarks>A lost answer (cancellation, connection loss) tells the truth, as for <see cref="PushAsync{TJob}(TJob, JobOptions?, CancellationToken)"/>.</remarks>
    public Task<IReadOnlyList<JobId>> PushManyAsync<TJob>(IEnumerable<TJob> jobs, JobOptions? options = null, CancellationToken cancellationToken = default)
        where TJob : IJob<TJob>
        => PushManyCoreAsync(jobs, null, options, cancellationToken);

    /// <summary>Pushes many jobs inside the caller's database transaction.</summary>
    public Task<IReadOnlyList<JobId>> PushManyAsync<TJob>(IEnumerable<TJob> jobs, DbTransaction transaction, JobOptions? options = null, CancellationToken cancellationToken = default)
        where TJob : IJob<TJob>
    {
        ArgumentNullException.ThrowIfNull(transaction);
        return PushManyCoreAsync(jobs, transaction, options, cancellationToken);
    }

    /// <summary>
    /// Cancels a job. A waiting job (pending, delayed, retrying, paused) never runs; a running job's handler token is
    /// cancelled on whichever worker runs it. Returns <see langword="false"/> when the job does not exist or already finished.
    /// </summary>
    public Task<bool> CancelAsync(JobId id, CancellationToken cancellationToken = default)
        => AnyQueueAsync((d, ct) => d.CancelAsync(id, ct), cancellationToken);

    /// <summary>Takes a waiting job off the queue until <see cref="ResumeAsync"/>. Returns <see langword="false"/> when the job is not waiting.</summary>
    public Task<bool> PauseAsync(JobId id, CancellationToken cancellationToken = default)
        => AnyQueueAsync((d, ct) => d.PauseAsync(id, ct), cancellationToken);

    /// <summary>Puts a paused job back with its priority and run time. Returns <see langword="false"/> when the job is not paused.</summary>
    public Task<bool> ResumeAsync(JobId id, CancellationToken cancellationToken = default)
        => AnyQueueAsync((d, ct) => d.ResumeAsync(id, ct), cancellationToken);

    /// <summary>Reads a job's state, attempts, last error and timestamps; <see langword="null"/> when it is not stored.</summary>
    public async Task<JobInfo?> GetJobAsync(JobId id, CancellationToken cancellationToken = default)
    {
        foreach (var queue in _runtime.KnownQueues())
        {
            if (await queue.Driver.GetJobAsync(id, cancellationToken).ConfigureAwait(false) is { } info)
            {
                return info;
            }
        }

        return null;
    }


    /// <summary>
    /// Counts jobs per name and state. A name whose jobs stay pending is one no running worker has registered (during a
    /// rolling deploy: the version that handles it is not up yet). Reads every job of the queue (an operator's view, not
    /// for a hot path): PostgreSQL reads it in bounded batches, each its own short transaction, so the counts are exact
    /// on a quiet queue, and on a busy one a job that changes state meanwhile may be counted in both states or in neither.
    /// </summary>
    public Task<IReadOnlyList<JobNameCounts>> GetCountsByNameAsync(CancellationToken cancellationToken = default)
        => _runtime.Driver.GetCountsByNameAsync(cancellationToken);


    /// <summary>Runs <paramref name="action"/> on this queue, then on the other queues known to this process, until one says yes.</summary>
    private async Task<bool> AnyQueueAsync(Func<Drivers.IJobDriver, CancellationToken, Task<bool>> action, CancellationToken cancellationToken)
    {
        foreach (var queue in _runtime.KnownQueues())
        {
            if (await action(queue.Driver, cancellationToken).ConfigureAwait(false))
            {
                return true;
            }
        }

        return false;
    }

    private async Task<JobPushResult> TryPushCoreAsync<TJob>(TJob job, DbTransaction? transaction, JobOptions? options, CancellationToken cancellationToken)
        where TJob : IJob<TJob>
    {
        ArgumentNullException.ThrowIfNull(job);
        var results = await _runtime.PushWithResultsAsync([job], options ?? JobOptions.Default, transaction, cancellationToken).ConfigureAwait(false);
        return results[0];
    }

    private async Task<JobId> PushCoreAsync<TJob>(TJob job, DbTransaction? transaction, JobOptions? options, CancellationToken cancellationToken)
        where TJob : IJob<TJob>
    {
        ArgumentNullException.ThrowIfNull(job);
        var ids = await _runtime.PushAsync([job], options ?? JobOptions.Default, transaction, cancellationToken).ConfigureAwait(false);
        return ids[0];
    }

    private async Task<IReadOnlyList<JobId>> PushManyCoreAsync<TJob>(IEnumerable<TJob> jobs, DbTransaction? transaction, JobOptions? options,
        CancellationToken cancellationToken)
        where TJob : IJob<TJob>
    {
        return await _runtime.PushAsync(NonNull(jobs), options ?? JobOptions.Default, transaction, cancellationToken).ConfigureAwait(false);
    }

    /// <summary><paramref name="jobs"/> as a list, refused with <see cref="ArgumentNullException"/> when it or one of its jobs is null.</summary>
    private static IReadOnlyList<TJob> NonNull<TJob>(IEnumerable<TJob> jobs)
    {
        ArgumentNullException.ThrowIfNull(jobs);
        var list = jobs as IReadOnlyList<TJob> ?? jobs.ToArray();
        foreach (var job in list)
        {
            ArgumentNullException.ThrowIfNull(job, nameof(jobs));
        }

        return list;
    }
}
