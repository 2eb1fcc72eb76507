using System.Data.Common;
using Jobs.Sdk.Drivers;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Jobs.Sdk;

/// <summary>
/// Pushes jobs and manages queued ones. Registered as a singleton by <c>AddJobs</c>; thread-safe.
/// The source generator adds typed <c>Push{Job}Async</c> extension methods on this type.
/// </summary>
public sealed partial class JobQueue
{
    private readonly IJobMiddleware[] _middleware;

    internal JobQueue(IJobDriver driver, JobRegistry registry, JobQueueOptions options, IEnumerable<IJobMiddleware> middleware,
        TimeProvider timeProvider, ILogger<JobQueue>? logger = null)
    {
        Driver = driver;
        Registry = registry;
        Options = options;
        TimeProvider = timeProvider;
        Logger = logger ?? NullLogger<JobQueue>.Instance;
        _middleware = middleware.ToArray();
        JobsInstrumentation.TrackQueue(driver);
    }

    internal IJobDriver Driver { get; }
    internal JobRegistry Registry { get; }
    internal JobQueueOptions Options { get; }
    internal TimeProvider TimeProvider { get; }
    internal ILogger Logger { get; }
    internal IReadOnlyList<IJobMiddleware> Middleware => _middleware;

    /// <summary>The queue name (jobs of other queues sharing the store are invisible here).</summary>
    public string QueueName => Driver.QueueName;

    /// <summary>Pushes one job.</summary>
    /// <returns>The new job's id.</returns>
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

    /// <summary>Pushes many jobs in one batch (any size; drivers stream large batches).</summary>
    /// <returns>The new ids, in input order.</returns>
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
    public Task<bool> CancelAsync(JobId id, CancellationToken cancellationToken = default) => Driver.CancelAsync(id, cancellationToken);

    /// <summary>Takes a waiting job off the queue until <see cref="ResumeAsync"/>. Returns <see langword="false"/> when the job is not waiting.</summary>
    public Task<bool> PauseAsync(JobId id, CancellationToken cancellationToken = default) => Driver.PauseAsync(id, cancellationToken);

    /// <summary>Puts a paused job back with its priority and run time. Returns <see langword="false"/> when the job is not paused.</summary>
    public Task<bool> ResumeAsync(JobId id, CancellationToken cancellationToken = default) => Driver.ResumeAsync(id, cancellationToken);

    /// <summary>Reads a job's state, attempts, last error and timestamps; <see langword="null"/> when it is not stored.</summary>
    public Task<JobInfo?> GetJobAsync(JobId id, CancellationToken cancellationToken = default) => Driver.GetJobAsync(id, cancellationToken);

    /// <summary>Counts this queue's jobs per state.</summary>
    public Task<JobCounts> GetCountsAsync(CancellationToken cancellationToken = default) => Driver.GetCountsAsync(cancellationToken);

    /// <summary>Runs one cleanup pass (an action per state) over this queue.</summary>
    public Task CleanupAsync(CleanupOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        return Driver.CleanupAsync(options, cancellationToken);
    }

    internal JobPushRecord CreateRecord<TJob>(TJob job, JobOptions options, IReadOnlyDictionary<string, string>? headers = null)
        where TJob : IJob<TJob>
    {
        ArgumentNullException.ThrowIfNull(job);
        return new JobPushRecord
        {
            Id = JobId.New(),
            Name = TJob.JobName,
            Payload = JobSerializer.Serialize(job),
            Priority = options.Priority,
            RunAt = options.DelayUntil,
            MaxAttempts = MaxAttemptsFor<TJob>(options),
            Headers = headers,
        };
    }

    internal int MaxAttemptsFor<TJob>(JobOptions options) where TJob : IJob<TJob>
    {
        if (options.MaxAttempts is { } explicitMax)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(explicitMax, 1, "options.MaxAttempts");
            return explicitMax;
        }

        if (Registry.TryGet(TJob.JobName, out var definition) && definition.RetryStrategy is { } strategy)
        {
            return strategy.MaxAttempts;
        }

        return TJob.MaxAttempts ?? Options.DefaultRetryStrategy.MaxAttempts;
    }

    internal async Task<JobId> PushRecordsAsync(IReadOnlyList<JobPushRecord> records, IReadOnlyList<object> jobs, JobOptions options,
        DbTransaction? transaction, CancellationToken cancellationToken)
    {
        using var telemetry = JobsInstrumentation.StartPush(QueueName, records);
        records = telemetry.Records;
        try
        {
            await Driver.PushAsync(records, transaction, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            telemetry.Failed(ex);
            throw;
        }

        telemetry.Stored();
        if (_middleware.Length > 0)
        {
            for (var i = 0; i < records.Count; i++)
            {
                var context = new JobPushContext(records[i].Id, records[i].Name, QueueName, 1, jobs[i], options);
                foreach (var m in _middleware)
                {
                    await m.OnPushAsync(context, cancellationToken).ConfigureAwait(false);
                }
            }
        }

        return records.Count > 0 ? records[0].Id : default;
    }

    private Task<JobId> PushCoreAsync<TJob>(TJob job, DbTransaction? transaction, JobOptions? options, CancellationToken cancellationToken)
        where TJob : IJob<TJob>
    {
        options ??= JobOptions.Default;
        var record = CreateRecord(job, options);
        return PushRecordsAsync([record], [job], options, transaction, cancellationToken);
    }

    private async Task<IReadOnlyList<JobId>> PushManyCoreAsync<TJob>(IEnumerable<TJob> jobs, DbTransaction? transaction, JobOptions? options,
        CancellationToken cancellationToken)
        where TJob : IJob<TJob>
    {
        ArgumentNullException.ThrowIfNull(jobs);
        options ??= JobOptions.Default;
        var maxAttempts = MaxAttemptsFor<TJob>(options);
        var records = new List<JobPushRecord>(jobs.TryGetNonEnumeratedCount(out var n) ? n : 16);
        var objects = new List<object>(records.Capacity);
        foreach (var job in jobs)
        {
            ArgumentNullException.ThrowIfNull(job, nameof(jobs));
            records.Add(new JobPushRecord
            {
                Id = JobId.New(),
                Name = TJob.JobName,
                Payload = JobSerializer.Serialize(job),
                Priority = options.Priority,
                RunAt = options.DelayUntil,
                MaxAttempts = maxAttempts,
            });
            objects.Add(job);
        }

        if (records.Count == 0)
        {
            return [];
        }

        await PushRecordsAsync(records, objects, options, transaction, cancellationToken).ConfigureAwait(false);
        var ids = new JobId[records.Count];
        for (var i = 0; i < ids.Length; i++)
        {
            ids[i] = records[i].Id;
        }

        return ids;
    }
}
