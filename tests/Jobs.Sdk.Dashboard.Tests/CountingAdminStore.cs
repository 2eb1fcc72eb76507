using Jobs.Sdk.Drivers;

namespace Jobs.Sdk.Dashboard.Tests;

/// <summary>Passes every call to the real admin store and counts the reads the live hub makes (queues, workers, job pages, throughput).</summary>
public sealed class CountingAdminStore(IJobAdminStore inner) : IJobAdminStore
{
    private long _queueReads;
    private long _workerReads;
    private long _jobPages;
    private long _throughputReads;

    public long QueueReads => Interlocked.Read(ref _queueReads);
    public long WorkerReads => Interlocked.Read(ref _workerReads);
    public long JobPages => Interlocked.Read(ref _jobPages);
    public long ThroughputReads => Interlocked.Read(ref _throughputReads);

    public Task<JobPage> ListJobsAsync(JobQuery query, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _jobPages);
        return inner.ListJobsAsync(query, cancellationToken);
    }

    public Task<IReadOnlyList<QueueInfo>> GetQueuesAsync(CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _queueReads);
        return inner.GetQueuesAsync(cancellationToken);
    }

    public Task<IReadOnlyList<WorkerInfo>> GetWorkersAsync(CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _workerReads);
        return inner.GetWorkersAsync(cancellationToken);
    }

    /// <summary>Runs after each id batch a bulk action by filter found (with the batch's number, 1 first): jobs arriving meanwhile.</summary>
    public Func<int, Task>? AfterFindBatch { get; set; }

    private int _findBatches;

    public async Task<IReadOnlyList<JobId>> FindJobIdsAsync(JobQuery query, JobId? after, int limit, CancellationToken cancellationToken)
    {
        var ids = await inner.FindJobIdsAsync(query, after, limit, cancellationToken);
        if (AfterFindBatch is { } hook)
        {
            await hook(Interlocked.Increment(ref _findBatches));
        }

        return ids;
    }

    public Task<JobDetails?> GetJobAsync(JobId id, CancellationToken cancellationToken) => inner.GetJobAsync(id, cancellationToken);

    public Task<int> ApplyAsync(JobAdminAction action, IReadOnlyList<JobId> ids, CancellationToken cancellationToken)
        => inner.ApplyAsync(action, ids, cancellationToken);

    public Task<bool> SetQueuePausedAsync(string queue, bool paused, string? reason, CancellationToken cancellationToken)
        => inner.SetQueuePausedAsync(queue, paused, reason, cancellationToken);

    public Task<IReadOnlyList<ScheduleInfo>> GetSchedulesAsync(CancellationToken cancellationToken) => inner.GetSchedulesAsync(cancellationToken);

    public Task PublishSchedulesAsync(IReadOnlyList<ScheduleRegistration> entries, CancellationToken cancellationToken)
        => inner.PublishSchedulesAsync(entries, cancellationToken);

    public Task<int> TriggerScheduleAsync(string entryKey, JobId id, CancellationToken cancellationToken)
        => inner.TriggerScheduleAsync(entryKey, id, cancellationToken);

    public Task<int> SetSchedulePausedAsync(string entryKey, bool paused, CancellationToken cancellationToken)
        => inner.SetSchedulePausedAsync(entryKey, paused, cancellationToken);

    public Task ReportWorkerAsync(WorkerHeartbeat heartbeat, CancellationToken cancellationToken) => inner.ReportWorkerAsync(heartbeat, cancellationToken);

    public Task RemoveWorkerAsync(string workerId, CancellationToken cancellationToken) => inner.RemoveWorkerAsync(workerId, cancellationToken);

    public Task AppendAuditAsync(AuditEntry entry, CancellationToken cancellationToken) => inner.AppendAuditAsync(entry, cancellationToken);

    public Task<IReadOnlyList<AuditEntry>> GetAuditLogAsync(int limit, CancellationToken cancellationToken) => inner.GetAuditLogAsync(limit, cancellationToken);

    public Task<DateTimeOffset> GetStoreTimeAsync(CancellationToken cancellationToken) => inner.GetStoreTimeAsync(cancellationToken);

    public Task ReportThroughputAsync(JobThroughputReport report, CancellationToken cancellationToken) => inner.ReportThroughputAsync(report, cancellationToken);

    public Task<IReadOnlyList<JobThroughputMinute>> GetThroughputAsync(DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _throughputReads);
        return inner.GetThroughputAsync(from, to, cancellationToken);
    }
}
