using Jobs.Sdk.Drivers;

namespace Jobs.Sdk.Admin.Tests;

/// <summary>
/// Passes every call to the real admin store; <see cref="AfterFind"/> runs after a bulk action by filter found its ids and
/// before it acts on them: a deterministic place for what happens to those jobs meanwhile (a worker, another operator).
/// </summary>
public sealed class InterleavingAdminStore(IJobAdminStore inner) : IJobAdminStore
{
    /// <summary>Runs once per id batch found (with the ids), then the action is applied to them.</summary>
    public Func<IReadOnlyList<JobId>, Task>? AfterFind { get; set; }

    public async Task<IReadOnlyList<JobId>> FindJobIdsAsync(JobQuery query, JobId? after, int limit, CancellationToken cancellationToken)
    {
        var ids = await inner.FindJobIdsAsync(query, after, limit, cancellationToken);
        if (AfterFind is { } hook)
        {
            await hook(ids);
        }

        return ids;
    }

    public Task<JobPage> ListJobsAsync(JobQuery query, CancellationToken cancellationToken) => inner.ListJobsAsync(query, cancellationToken);
    public Task<JobDetails?> GetJobAsync(JobId id, CancellationToken cancellationToken) => inner.GetJobAsync(id, cancellationToken);
    /// <summary>Runs after each batch an action changed (with the rows changed): what happens once the change committed.</summary>
    public Action<int>? AfterApply { get; set; }

    public async Task<int> ApplyAsync(JobAdminAction action, IReadOnlyList<JobId> ids, CancellationToken cancellationToken)
    {
        var changed = await inner.ApplyAsync(action, ids, cancellationToken);
        AfterApply?.Invoke(changed);
        return changed;
    }
    public Task<IReadOnlyList<QueueInfo>> GetQueuesAsync(CancellationToken cancellationToken) => inner.GetQueuesAsync(cancellationToken);
    public Task<bool> SetQueuePausedAsync(string queue, bool paused, string? reason, CancellationToken cancellationToken)
        => inner.SetQueuePausedAsync(queue, paused, reason, cancellationToken);
    public Task<IReadOnlyList<ScheduleInfo>> GetSchedulesAsync(CancellationToken cancellationToken) => inner.GetSchedulesAsync(cancellationToken);
    public Task PublishSchedulesAsync(IReadOnlyList<ScheduleRegistration> entries, CancellationToken cancellationToken) => inner.PublishSchedulesAsync(entries, cancellationToken);
    public Task<int> TriggerScheduleAsync(string entryKey, JobId id, CancellationToken cancellationToken) => inner.TriggerScheduleAsync(entryKey, id, cancellationToken);
    public Task<int> SetSchedulePausedAsync(string entryKey, bool paused, CancellationToken cancellationToken) => inner.SetSchedulePausedAsync(entryKey, paused, cancellationToken);
    public Task<IReadOnlyList<WorkerInfo>> GetWorkersAsync(CancellationToken cancellationToken) => inner.GetWorkersAsync(cancellationToken);
    public Task ReportWorkerAsync(WorkerHeartbeat heartbeat, CancellationToken cancellationToken) => inner.ReportWorkerAsync(heartbeat, cancellationToken);
    public Task RemoveWorkerAsync(string workerId, CancellationToken cancellationToken) => inner.RemoveWorkerAsync(workerId, cancellationToken);
    public Task ReportThroughputAsync(JobThroughputReport report, CancellationToken cancellationToken) => inner.ReportThroughputAsync(report, cancellationToken);
    public Task<IReadOnlyList<JobThroughputMinute>> GetThroughputAsync(DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
        => inner.GetThroughputAsync(from, to, cancellationToken);
    public Task AppendAuditAsync(AuditEntry entry, CancellationToken cancellationToken) => inner.AppendAuditAsync(entry, cancellationToken);
    public Task<IReadOnlyList<AuditEntry>> GetAuditLogAsync(int limit, CancellationToken cancellationToken) => inner.GetAuditLogAsync(limit, cancellationToken);

    public Task<DateTimeOffset> GetStoreTimeAsync(CancellationToken cancellationToken) => inner.GetStoreTimeAsync(cancellationToken);
}
