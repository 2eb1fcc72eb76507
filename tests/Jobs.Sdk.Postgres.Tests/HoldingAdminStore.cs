using Jobs.Sdk.Drivers;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// Passes every call to the real admin store, except that once <see cref="Hold"/> is set the next worker heartbeat waits for
/// <see cref="Release"/> and ignores its token (as a store call stuck on a dead socket does): a deterministic place for a
/// presence report still running when the host stops and disposes.
/// </summary>
public sealed class HoldingAdminStore(IJobAdminStore inner) : IJobAdminStore
{
    private readonly TaskCompletionSource _entered = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _hold;

    /// <summary>Completes when a heartbeat reported after <see cref="Hold"/> is waiting.</summary>
    public Task Entered => _entered.Task;

    /// <summary>The next heartbeat waits for <see cref="Release"/>.</summary>
    public void Hold() => _hold = true;

    /// <summary>Lets a held heartbeat go on.</summary>
    public void Release() => _release.TrySetResult();

    public async Task ReportWorkerAsync(WorkerHeartbeat heartbeat, CancellationToken cancellationToken)
    {
        if (_hold)
        {
            _entered.TrySetResult();
            await _release.Task;
        }

        await inner.ReportWorkerAsync(heartbeat, cancellationToken);
    }

    public Task<JobPage> ListJobsAsync(JobQuery query, CancellationToken cancellationToken) => inner.ListJobsAsync(query, cancellationToken);
    public Task<IReadOnlyList<JobId>> FindJobIdsAsync(JobQuery query, JobId? after, int limit, CancellationToken cancellationToken)
        => inner.FindJobIdsAsync(query, after, limit, cancellationToken);
    public Task<JobDetails?> GetJobAsync(JobId id, CancellationToken cancellationToken) => inner.GetJobAsync(id, cancellationToken);
    public Task<int> ApplyAsync(JobAdminAction action, IReadOnlyList<JobId> ids, CancellationToken cancellationToken)
        => inner.ApplyAsync(action, ids, cancellationToken);
    public Task<IReadOnlyList<QueueInfo>> GetQueuesAsync(CancellationToken cancellationToken) => inner.GetQueuesAsync(cancellationToken);
    public Task<bool> SetQueuePausedAsync(string queue, bool paused, string? reason, CancellationToken cancellationToken)
        => inner.SetQueuePausedAsync(queue, paused, reason, cancellationToken);
    public Task<IReadOnlyList<ScheduleInfo>> GetSchedulesAsync(CancellationToken cancellationToken) => inner.GetSchedulesAsync(cancellationToken);
    public Task PublishSchedulesAsync(IReadOnlyList<ScheduleRegistration> entries, CancellationToken cancellationToken)
        => inner.PublishSchedulesAsync(entries, cancellationToken);
    public Task<int> TriggerScheduleAsync(string entryKey, JobId id, CancellationToken cancellationToken)
        => inner.TriggerScheduleAsync(entryKey, id, cancellationToken);
    public Task<int> SetSchedulePausedAsync(string entryKey, bool paused, CancellationToken cancellationToken)
        => inner.SetSchedulePausedAsync(entryKey, paused, cancellationToken);
    public Task<IReadOnlyList<WorkerInfo>> GetWorkersAsync(CancellationToken cancellationToken) => inner.GetWorkersAsync(cancellationToken);
    public Task RemoveWorkerAsync(string workerId, CancellationToken cancellationToken) => inner.RemoveWorkerAsync(workerId, cancellationToken);
    public Task ReportThroughputAsync(JobThroughputReport report, CancellationToken cancellationToken)
        => inner.ReportThroughputAsync(report, cancellationToken);
    public Task<IReadOnlyList<JobThroughputMinute>> GetThroughputAsync(DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
        => inner.GetThroughputAsync(from, to, cancellationToken);
    public Task AppendAuditAsync(AuditEntry entry, CancellationToken cancellationToken) => inner.AppendAuditAsync(entry, cancellationToken);
    public Task<IReadOnlyList<AuditEntry>> GetAuditLogAsync(int limit, CancellationToken cancellationToken) => inner.GetAuditLogAsync(limit, cancellationToken);
    public Task<DateTimeOffset> GetStoreTimeAsync(CancellationToken cancellationToken) => inner.GetStoreTimeAsync(cancellationToken);
}
