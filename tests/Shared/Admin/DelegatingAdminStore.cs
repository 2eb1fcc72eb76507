using Jobs.Sdk.Drivers;

namespace Jobs.Sdk.Testing;

/// <summary>
/// Passes every call to a real admin store: the base of the tests' store wrappers, each overriding only the calls it
/// counts, holds or interleaves.
/// </summary>
public abstract class DelegatingAdminStore(IJobAdminStore inner) : IJobAdminStore
{
    public virtual Task<JobPage> ListJobsAsync(JobQuery query, CancellationToken cancellationToken) => inner.ListJobsAsync(query, cancellationToken);
    public virtual Task<IReadOnlyList<JobId>> FindJobIdsAsync(JobQuery query, JobId? after, int limit, CancellationToken cancellationToken)
        => inner.FindJobIdsAsync(query, after, limit, cancellationToken);
    public virtual Task<JobDetails?> GetJobAsync(JobId id, CancellationToken cancellationToken) => inner.GetJobAsync(id, cancellationToken);
    public virtual Task<int> ApplyAsync(JobAdminAction action, IReadOnlyList<JobId> ids, CancellationToken cancellationToken)
        => inner.ApplyAsync(action, ids, cancellationToken);
    public virtual Task<IReadOnlyList<JobId>> PreviewAsync(JobAdminAction action, IReadOnlyList<JobId> ids, CancellationToken cancellationToken)
        => inner.PreviewAsync(action, ids, cancellationToken);
    public virtual Task<IReadOnlyList<QueueInfo>> GetQueuesAsync(CancellationToken cancellationToken) => inner.GetQueuesAsync(cancellationToken);
    public virtual Task<bool> SetQueuePausedAsync(string queue, bool paused, string? reason, CancellationToken cancellationToken)
        => inner.SetQueuePausedAsync(queue, paused, reason, cancellationToken);
    public virtual Task<IReadOnlyList<ScheduleInfo>> GetSchedulesAsync(CancellationToken cancellationToken) => inner.GetSchedulesAsync(cancellationToken);
    public virtual Task PublishSchedulesAsync(IReadOnlyList<ScheduleRegistration> entries, CancellationToken cancellationToken)
        => inner.PublishSchedulesAsync(entries, cancellationToken);
    public virtual Task<int> TriggerScheduleAsync(string entryKey, JobId id, CancellationToken cancellationToken)
        => inner.TriggerScheduleAsync(entryKey, id, cancellationToken);
    public virtual Task<int> SetSchedulePausedAsync(string entryKey, bool paused, CancellationToken cancellationToken)
        => inner.SetSchedulePausedAsync(entryKey, paused, cancellationToken);
    public virtual Task<int> TriggerScheduleAsync(string queue, string entryKey, JobId id, CancellationToken cancellationToken)
        => inner.TriggerScheduleAsync(queue, entryKey, id, cancellationToken);
    public virtual Task<int> SetSchedulePausedAsync(string queue, string entryKey, bool paused, CancellationToken cancellationToken)
        => inner.SetSchedulePausedAsync(queue, entryKey, paused, cancellationToken);
    public virtual Task<IReadOnlyList<WorkerInfo>> GetWorkersAsync(CancellationToken cancellationToken) => inner.GetWorkersAsync(cancellationToken);
    public virtual Task ReportWorkerAsync(WorkerHeartbeat heartbeat, CancellationToken cancellationToken) => inner.ReportWorkerAsync(heartbeat, cancellationToken);
    public virtual Task RemoveWorkerAsync(string workerId, CancellationToken cancellationToken) => inner.RemoveWorkerAsync(workerId, cancellationToken);
    public virtual Task ReportThroughputAsync(JobThroughputReport report, CancellationToken cancellationToken)
        => inner.ReportThroughputAsync(report, cancellationToken);
    public virtual Task<IReadOnlyList<JobThroughputMinute>> GetThroughputAsync(DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
        => inner.GetThroughputAsync(from, to, cancellationToken);
    public virtual Task AppendAuditAsync(AuditEntry entry, CancellationToken cancellationToken) => inner.AppendAuditAsync(entry, cancellationToken);
    public virtual Task<IReadOnlyList<AuditEntry>> GetAuditLogAsync(int limit, CancellationToken cancellationToken) => inner.GetAuditLogAsync(limit, cancellationToken);
    public virtual Task<DateTimeOffset> GetStoreTimeAsync(CancellationToken cancellationToken) => inner.GetStoreTimeAsync(cancellationToken);

    public virtual Task<string?> GetReadOnlyReasonAsync(CancellationToken cancellationToken) => inner.GetReadOnlyReasonAsync(cancellationToken);
}
