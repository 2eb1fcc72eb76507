using System.ComponentModel;
using System.Data.Common;
using System.Diagnostics.CodeAnalysis;

namespace Jobs.Sdk.Infrastructure;

/// <summary>
/// The bodies of the generated <c>Push{Type}Async</c> and <c>Add{Type}</c> methods: each generated method is one call
/// here with explicit type arguments, which is cheaper to compile than the null checks and generic inference it replaces
/// (see tests/Jobs.Sdk.Benchmarks/README.md, "Build cost"). Not meant for application code.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class JobPushServices
{
    /// <summary>Pushes <paramref name="job"/> on <paramref name="queue"/> (<see cref="JobQueue.PushAsync{TJob}(TJob, JobOptions?, CancellationToken)"/>).</summary>
    /// <typeparam name="TJob">The job type.</typeparam>
    /// <param name="queue">The job queue.</param>
    /// <param name="job">The job.</param>
    /// <param name="options">Push options, or <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels the push.</param>
    /// <returns>The new job's id.</returns>
    public static Task<JobId> Push<TJob>(JobQueue queue, TJob job, JobOptions? options, CancellationToken cancellationToken)
        where TJob : IJob<TJob>
    {
        ArgumentNullException.ThrowIfNull(queue);
        return queue.PushAsync(job, options, cancellationToken);
    }

    /// <summary>Pushes <paramref name="job"/> inside <paramref name="transaction"/> (<see cref="JobQueue.PushAsync{TJob}(TJob, DbTransaction, JobOptions?, CancellationToken)"/>).</summary>
    /// <typeparam name="TJob">The job type.</typeparam>
    /// <param name="queue">The job queue.</param>
    /// <param name="job">The job.</param>
    /// <param name="transaction">The caller's open transaction.</param>
    /// <param name="options">Push options, or <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels the push.</param>
    /// <returns>The new job's id.</returns>
    public static Task<JobId> PushInTransaction<TJob>(JobQueue queue, TJob job, DbTransaction transaction, JobOptions? options, CancellationToken cancellationToken)
        where TJob : IJob<TJob>
    {
        ArgumentNullException.ThrowIfNull(queue);
        return queue.PushAsync(job, transaction, options, cancellationToken);
    }

    /// <summary>Registers <typeparamref name="THandler"/> for <typeparamref name="TJob"/> (<see cref="JobsBuilder.AddJob{TJob, THandler}"/>).</summary>
    /// <typeparam name="TJob">The job type.</typeparam>
    /// <typeparam name="THandler">The handler type.</typeparam>
    /// <param name="builder">The jobs builder.</param>
    /// <param name="configure">Optional retry strategy and timeout overrides.</param>
    /// <returns>The builder.</returns>
    public static JobsBuilder AddHandler<TJob, [DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] THandler>(
        JobsBuilder builder, Action<JobRegistrationOptions>? configure)
        where TJob : IJob<TJob>
        where THandler : class, IJobHandler<TJob>
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddJob<TJob, THandler>(configure);
    }

    /// <summary>Registers a delegate handler for <typeparamref name="TJob"/> (<see cref="JobsBuilder.AddJob{TJob}(Func{TJob, JobContext, CancellationToken, Task}, Action{JobRegistrationOptions}?)"/>).</summary>
    /// <typeparam name="TJob">The job type.</typeparam>
    /// <param name="builder">The jobs builder.</param>
    /// <param name="handler">Runs one attempt of the job.</param>
    /// <param name="configure">Optional retry strategy and timeout overrides.</param>
    /// <returns>The builder.</returns>
    public static JobsBuilder AddDelegate<TJob>(JobsBuilder builder, Func<TJob, JobContext, CancellationToken, Task> handler, Action<JobRegistrationOptions>? configure)
        where TJob : IJob<TJob>
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddJob(handler, configure);
    }
}
