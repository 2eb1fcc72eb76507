using System.Data.Common;

namespace Jobs.Sdk;

/// <content>Batch pushes that tell, per job, whether it was inserted or a unique key was held.</content>
public sealed partial class JobQueue
{
    /// <summary>
    /// Pushes many jobs in one batch, all or nothing, and tells for each whether it was inserted: a unique job
    /// (<see cref="JobAttribute.Unique"/>, <see cref="JobOptions.UniqueKey"/>) whose key is held, by an existing job or by
    /// a job earlier in the same batch, inserts nothing, and its result carries the holder's id with
    /// <see cref="JobPushResult.Inserted"/> false. Other jobs always insert.
    /// </summary>
    /// <returns>One result per job, in input order.</returns>
    /// <remarks>A lost answer (cancellation, connection loss) tells the truth, as for <see cref="PushAsync{TJob}(TJob, JobOptions?, CancellationToken)"/>.</remarks>
    public Task<IReadOnlyList<JobPushResult>> TryPushManyAsync<TJob>(IEnumerable<TJob> jobs, JobOptions? options = null, CancellationToken cancellationToken = default)
        where TJob : IJob<TJob>
        => TryPushManyCoreAsync(jobs, null, options, cancellationToken);

    /// <summary>
    /// <see cref="TryPushManyAsync{TJob}(IEnumerable{TJob}, JobOptions?, CancellationToken)"/> inside the caller's database
    /// transaction (PostgreSQL driver): the jobs exist only if the caller commits.
    /// </summary>
    public Task<IReadOnlyList<JobPushResult>> TryPushManyAsync<TJob>(IEnumerable<TJob> jobs, DbTransaction transaction, JobOptions? options = null,
        CancellationToken cancellationToken = default)
        where TJob : IJob<TJob>
    {
        ArgumentNullException.ThrowIfNull(transaction);
        return TryPushManyCoreAsync(jobs, transaction, options, cancellationToken);
    }

    private async Task<IReadOnlyList<JobPushResult>> TryPushManyCoreAsync<TJob>(IEnumerable<TJob> jobs, DbTransaction? transaction, JobOptions? options,
        CancellationToken cancellationToken)
        where TJob : IJob<TJob>
    {
        return await _runtime.PushWithResultsAsync(NonNull(jobs), options ?? JobOptions.Default, transaction, cancellationToken).ConfigureAwait(false);
    }
}
