namespace Jobs.Sdk.Drivers;

/// <summary>
/// The storage seam behind <see cref="JobAdmin"/>: queries and bulk changes across every queue of a store, queue pause, schedule
/// and worker catalogs, and the audit log. Implemented by Jobs.Sdk's drivers (the in-memory driver itself; PostgreSQL by
/// <c>PostgresJobAdminStore</c>). The contract may change between minor versions; do not implement it in application code.
/// </summary>
/// <remarks>
/// Validation, batching, logging and auditing are <see cref="JobAdmin"/>'s job: a store receives valid queries and bounded id
/// batches, and each method call is one short unit of work (one statement or transaction where the store has them).
/// </remarks>
public interface IJobAdminStore
{
    /// <summary>One page of jobs (the query is validated).</summary>
    Task<JobPage> ListJobsAsync(JobQuery query, CancellationToken cancellationToken);

    /// <summary>Ids of jobs matching <paramref name="query"/> (its limit, order and cursor ignored), id ascending, after <paramref name="after"/>, at most <paramref name="limit"/>.</summary>
    Task<IReadOnlyList<JobId>> FindJobIdsAsync(JobQuery query, JobId? after, int limit, CancellationToken cancellationToken);

    /// <summary>One job with everything stored about it, or <see langword="null"/>.</summary>
    Task<JobDetails?> GetJobAsync(JobId id, CancellationToken cancellationToken);

    /// <summary>
    /// Applies <paramref name="action"/> to a bounded batch of jobs (one transaction). Returns the rows it changed. A store
    /// whose time limit for one statement cancelled the batch (nothing of it changed) throws
    /// <see cref="JobBatchTimeoutException"/>: <see cref="JobAdmin"/> then tries the jobs in smaller batches. A store that
    /// changed the batch's jobs but those other transactions held locked past its lock wait throws
    /// <see cref="JobsLockedException"/> with the rows it changed (committed), the jobs left and their holders:
    /// <see cref="JobAdmin"/> counts the changes, goes on, and ends the action with that exception for all the jobs left.
    /// </summary>
    Task<int> ApplyAsync(JobAdminAction action, IReadOnlyList<JobId> ids, CancellationToken cancellationToken);

    /// <summary>
    /// The jobs of a bounded batch that <see cref="ApplyAsync"/> with <paramref name="action"/> would change now, id ascending
    /// (a dry run: changes nothing, takes no row locks). A store decides it with the very conditions its
    /// <see cref="ApplyAsync"/> checks, so the two agree unless the jobs change in between. The default refuses: a store
    /// that cannot tell does not guess.
    /// </summary>
    Task<IReadOnlyList<JobId>> PreviewAsync(JobAdminAction action, IReadOnlyList<JobId> ids, CancellationToken cancellationToken)
        => Task.FromException<IReadOnlyList<JobId>>(new NotSupportedException($"The admin store {GetType().Name} cannot preview a bulk action (dry run)."));

    /// <summary>Every queue that has jobs, workers or a pause record.</summary>
    Task<IReadOnlyList<QueueInfo>> GetQueuesAsync(CancellationToken cancellationToken);

    /// <summary>Pauses (or resumes) claims of <paramref name="queue"/> cluster-wide. Returns whether the state changed.</summary>
    Task<bool> SetQueuePausedAsync(string queue, bool paused, string? reason, CancellationToken cancellationToken);

    /// <summary>The published schedule entries of every queue.</summary>
    Task<IReadOnlyList<ScheduleInfo>> GetSchedulesAsync(CancellationToken cancellationToken);

    /// <summary>Publishes (upserts) the entries a scheduler runs, with their job templates, so tools can list and trigger them.</summary>
    Task PublishSchedulesAsync(IReadOnlyList<ScheduleRegistration> entries, CancellationToken cancellationToken);

    /// <summary>
    /// Pushes the job of entry <paramref name="entryKey"/> now (in every queue that has that entry and where it is published and
    /// not paused). Returns how many jobs were
    /// pushed. A unique entry (<see cref="ScheduleRegistration.UniqueKey"/>) is pushed as a unique push is: only where no job of
    /// the queue holds its key (a holder whose hold is over is released first), and the pushed job holds the key.
    /// </summary>
    Task<int> TriggerScheduleAsync(string entryKey, JobId id, CancellationToken cancellationToken);

    /// <summary>
    /// Pauses (or resumes) entry <paramref name="entryKey"/> in every queue that has it: while paused, its fires are recorded but push nothing. A resume
    /// is recorded too: the schedule store's <c>GetLastFireTimeAsync</c> returns it while it is later than the entry's
    /// latest fire, so a scheduler that starts after it does not push the fire times that fell while the entry was paused.
    /// Returns the entries changed.
    /// </summary>
    Task<int> SetSchedulePausedAsync(string entryKey, bool paused, CancellationToken cancellationToken);

    /// <summary>
    /// Pushes the job of the entry <paramref name="entryKey"/> of queue <paramref name="queue"/> now, as
    /// <see cref="TriggerScheduleAsync(string, JobId, CancellationToken)"/> does in that queue alone, and only while the entry is
    /// published and not paused (a store refuses it in the same unit of work as the push): an entry of another queue with the
    /// same key is not touched. Returns the jobs pushed (0 or 1). <see cref="JobAdmin"/> calls this one. The default refuses:
    /// a store that cannot scope a trigger to one queue does not push in every queue.
    /// </summary>
    Task<int> TriggerScheduleAsync(string queue, string entryKey, JobId id, CancellationToken cancellationToken)
        => Task.FromException<int>(new NotSupportedException(
            $"The admin store {GetType().Name} cannot trigger the schedule entry of one queue; update the driver package."));

    /// <summary>
    /// Pauses (or resumes) the entry <paramref name="entryKey"/> of queue <paramref name="queue"/> alone, as
    /// <see cref="SetSchedulePausedAsync(string, bool, CancellationToken)"/> does (a resume is recorded with the entry's fires).
    /// Returns the entries changed (0 or 1). <see cref="JobAdmin"/> calls this one. The default refuses: a store that cannot
    /// scope a pause to one queue does not pause every queue's entry.
    /// </summary>
    Task<int> SetSchedulePausedAsync(string queue, string entryKey, bool paused, CancellationToken cancellationToken)
        => Task.FromException<int>(new NotSupportedException(
            $"The admin store {GetType().Name} cannot pause or resume the schedule entry of one queue; update the driver package."));

    /// <summary>The workers whose last report has not expired.</summary>
    Task<IReadOnlyList<WorkerInfo>> GetWorkersAsync(CancellationToken cancellationToken);

    /// <summary>Records (upserts) a worker's presence; it expires <see cref="WorkerHeartbeat.TimeToLive"/> after this report.</summary>
    Task ReportWorkerAsync(WorkerHeartbeat heartbeat, CancellationToken cancellationToken);

    /// <summary>Removes a worker's presence (graceful stop).</summary>
    Task RemoveWorkerAsync(string workerId, CancellationToken cancellationToken);

    /// <summary>
    /// Records (upserts) a worker's finished jobs per minute and queue: each total replaces the one stored for that worker,
    /// queue and minute. Stores drop minutes older than a few hours.
    /// </summary>
    Task ReportThroughputAsync(JobThroughputReport report, CancellationToken cancellationToken);

    /// <summary>Finished jobs per minute and queue, summed over workers, for the minutes in [<paramref name="from"/>, <paramref name="to"/>), oldest first.</summary>
    Task<IReadOnlyList<JobThroughputMinute>> GetThroughputAsync(DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken);

    /// <summary>Appends an audit entry (its <see cref="AuditEntry.Id"/> and <see cref="AuditEntry.At"/> are assigned by the store).</summary>
    Task AppendAuditAsync(AuditEntry entry, CancellationToken cancellationToken);

    /// <summary>The latest <paramref name="limit"/> audit entries, newest first.</summary>
    Task<IReadOnlyList<AuditEntry>> GetAuditLogAsync(int limit, CancellationToken cancellationToken);

    /// <summary>
    /// The store's clock now: the clock jobs' queued, run and finished times are written on (the database's on PostgreSQL),
    /// which may differ from the caller's. The default is this machine's clock.
    /// </summary>
    Task<DateTimeOffset> GetStoreTimeAsync(CancellationToken cancellationToken) => Task.FromResult(DateTimeOffset.UtcNow);

    /// <summary>
    /// Why the server this store reads refuses writes now, or <see langword="null"/> when it accepts them: on PostgreSQL a
    /// standby in recovery (a read replica, or the old primary after a failover behind one host name) or a server, database
    /// or role with <c>default_transaction_read_only</c> on. Reads there still answer, but may be stale, and every change is
    /// refused. One cheap read. The default (the in-memory store) is writable.
    /// </summary>
    Task<string?> GetReadOnlyReasonAsync(CancellationToken cancellationToken) => Task.FromResult<string?>(null);
}

/// <summary>What a bulk action does to each selected job.</summary>
public enum JobAdminActionKind
{
    /// <summary>Failed, cancelled or retrying jobs become pending and due now (attempts kept, or reset to 0 with <see cref="JobAdminAction.FromFirstAttempt"/>).</summary>
    Retry = 0,
    /// <summary>Waiting jobs (pending, retrying, paused) become cancelled; running jobs are asked to stop.</summary>
    Cancel = 1,
    /// <summary>Jobs are deleted, whatever their state (a running job's worker loses it at its next lease renewal).</summary>
    Delete = 2,
    /// <summary>Waiting jobs (pending, retrying, paused) get <see cref="JobAdminAction.Priority"/>.</summary>
    SetPriority = 3,
    /// <summary>Delayed pending or retrying jobs become due now.</summary>
    RunNow = 4,
}

/// <summary>A bulk action, as <see cref="JobAdmin"/> hands it to a store.</summary>
/// <param name="Kind">What to do.</param>
/// <param name="FromFirstAttempt">For <see cref="JobAdminActionKind.Retry"/>: restart from attempt 1.</param>
/// <param name="Priority">For <see cref="JobAdminActionKind.SetPriority"/>: the new priority.</param>
public readonly record struct JobAdminAction(JobAdminActionKind Kind, bool FromFirstAttempt = false, JobPriority Priority = JobPriority.Normal)
{
    /// <summary>
    /// When set, only jobs in one of these states are changed (checked by the statement that changes them): an action on
    /// the jobs a filter with states found never reaches a job whose state changed since (a failed job retried and running
    /// by the time "delete every failed job" gets to it).
    /// </summary>
    public IReadOnlyList<JobState>? OnlyStates { get; init; }
}

/// <summary>A worker's presence report.</summary>
public sealed record WorkerHeartbeat
{
    /// <summary>The worker id.</summary>
    public required string WorkerId { get; init; }
    /// <summary>The machine name.</summary>
    public required string Host { get; init; }
    /// <summary>The process id.</summary>
    public required int ProcessId { get; init; }
    /// <summary>When the worker started.</summary>
    public required DateTimeOffset StartedAt { get; init; }
    /// <summary>The queues it serves.</summary>
    public required IReadOnlyList<string> Queues { get; init; }
    /// <summary>The job names it handles.</summary>
    public required IReadOnlyList<string> JobNames { get; init; }
    /// <summary>Jobs running now.</summary>
    public int RunningCount { get; init; }
    /// <summary>Configured concurrency.</summary>
    public int Concurrency { get; init; }
    /// <summary>How long the report holds without another one (the worker's lease duration).</summary>
    public required TimeSpan TimeToLive { get; init; }
}

/// <summary>A schedule entry as a scheduler publishes it: its description and the job it pushes (so it can be triggered without the code).</summary>
public sealed record ScheduleRegistration
{
    /// <summary>The queue.</summary>
    public required string QueueName { get; init; }
    /// <summary>The entry key.</summary>
    public required string EntryKey { get; init; }
    /// <summary>The job name pushed.</summary>
    public required string JobName { get; init; }
    /// <summary>The schedule's description.</summary>
    public required string Description { get; init; }
    /// <summary>The job's payload, UTF-8 JSON.</summary>
    public required ReadOnlyMemory<byte> Payload { get; init; }
    /// <summary>The job's priority.</summary>
    public JobPriority Priority { get; init; } = JobPriority.Normal;
    /// <summary>The job's attempts.</summary>
    public int MaxAttempts { get; init; } = 4;
    /// <summary>The next fire time after now, when there is one.</summary>
    public DateTimeOffset? NextFireAt { get; init; }
    /// <summary>
    /// The job's unique key when its type is unique (<c>[Job(Unique = true)]</c>), as its scheduled fires carry it (scoped to
    /// the job name, like <see cref="JobPushRecord.UniqueKey"/>); <see langword="null"/>: not unique. Computed by the
    /// scheduler's process, which has the job type (a <c>[UniqueKey]</c> member key cannot be derived from the payload), so
    /// a trigger pushes the job only while no job of the queue holds the key.
    /// </summary>
    public string? UniqueKey { get; init; }
    /// <summary>How long <see cref="UniqueKey"/> still holds after the job finished (the type's UniqueFor).</summary>
    public TimeSpan UniqueFor { get; init; }
    /// <summary>
    /// The job's concurrency key when its type has a <c>ConcurrencyLimit</c>, as its scheduled fires carry it
    /// (<see cref="JobPushRecord.ConcurrencyKey"/>); <see langword="null"/>: none. Computed by the scheduler's process (a
    /// <c>[ConcurrencyKey]</c> member key cannot be derived from the payload), so a triggered job waits in its key's line
    /// as a push does.
    /// </summary>
    public string? ConcurrencyKey { get; init; }
    /// <summary>With <see cref="ConcurrencyKey"/>: how many jobs of the key may run at once (<see cref="JobPushRecord.ConcurrencyLimit"/>).</summary>
    public int? ConcurrencyLimit { get; init; }
    /// <summary>
    /// How long this publication holds without another one (the publishing process's lease duration: it republishes every
    /// third of it). An entry no process republished within it is listed as stale (<see cref="ScheduleInfo.IsStale"/>).
    /// <see cref="TimeSpan.Zero"/>: not given (the store assumes a default).
    /// </summary>
    public TimeSpan TimeToLive { get; init; }
}
