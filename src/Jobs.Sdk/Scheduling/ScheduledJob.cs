using Jobs.Sdk.Drivers;

namespace Jobs.Sdk;

/// <summary>The job value of a <see cref="JobScheduleEntry"/>, typed, pushed through the runtime's one push path at each fire.</summary>
internal abstract class ScheduledJob
{
    /// <summary>The job value, for <see cref="JobScheduleEntry.Job"/>.</summary>
    public abstract object Value { get; }

    /// <summary>The runtime of the queue the job goes to: its type's queue (<c>[Job(Queue = ...)]</c>), else the scheduler's.</summary>
    public abstract JobsRuntime Target(JobsRuntime scheduler);

    /// <summary>The stored form of one fire's job.</summary>
    public abstract JobPushRecord CreateRecord(JobsRuntime runtime, JobOptions options, IReadOnlyDictionary<string, string> headers);

    /// <summary>Pushes one fire's job through the schedule store's exactly-once write; returns what the fire did.</summary>
    public abstract Task<ScheduledFireResult> PushAsync(JobsRuntime runtime, JobOptions options, IReadOnlyDictionary<string, string> headers,
        Func<JobPushRecord, CancellationToken, Task<ScheduledFireResult>> tryWrite, CancellationToken cancellationToken);
}

/// <summary>A scheduled <typeparamref name="TJob"/>.</summary>
/// <param name="job">The value pushed at every fire.</param>
/// <param name="storedName">The stored job name per queue, when it is not <see cref="IJob{TSelf}.JobName"/> (built-in per-queue jobs).</param>
/// <param name="maxAttempts">A fixed attempt limit (built-in jobs), else the retry policy's.</param>
internal sealed class ScheduledJob<TJob>(TJob job, Func<string, string>? storedName = null, int? maxAttempts = null) : ScheduledJob
    where TJob : IJob<TJob>
{
    public override object Value => job;

    /// <remarks>Built-in per-queue jobs (a stored name per queue) stay in the scheduler's queue.</remarks>
    public override JobsRuntime Target(JobsRuntime scheduler) => storedName is null ? scheduler.ForQueue(TJob.Queue) : scheduler;

    /// <remarks>
    /// A unique job type (<c>[Job(Unique = true)]</c>) carries its unique key, as a unique push does: the store pushes the
    /// fire's job only when no job of the queue holds the key, and the job holds it against later pushes.
    /// </remarks>
    public override JobPushRecord CreateRecord(JobsRuntime runtime, JobOptions options, IReadOnlyDictionary<string, string> headers)
    {
        if (maxAttempts is not null)
        {
            options = options with { MaxAttempts = maxAttempts };
        }

        var name = storedName?.Invoke(runtime.QueueName) ?? TJob.JobName;
        var record = runtime.CreateRecord(job, options, name, runtime.RetryPolicy.MaxAttemptsFor(name, TJob.MaxAttempts, options), headers);
        return TJob.Unique ? JobsRuntime.WithUniqueKey(record, job, options) : record;
    }

    public override Task<ScheduledFireResult> PushAsync(JobsRuntime runtime, JobOptions options, IReadOnlyDictionary<string, string> headers,
        Func<JobPushRecord, CancellationToken, Task<ScheduledFireResult>> tryWrite, CancellationToken cancellationToken)
        => runtime.PushScheduledAsync(CreateRecord(runtime, options, headers), job, options, tryWrite, cancellationToken);
}
