using Jobs.Sdk.Drivers;
using Jobs.Sdk.Testing;

namespace Jobs.Sdk.Dashboard.Tests;

/// <summary>Passes every call to the real admin store and counts the reads the live hub makes (queues, workers, job pages, throughput).</summary>
public sealed class CountingAdminStore(IJobAdminStore inner) : DelegatingAdminStore(inner)
{
    private long _queueReads;
    private long _workerReads;
    private long _jobPages;
    private long _throughputReads;
    private int _findBatches;

    public long QueueReads => Interlocked.Read(ref _queueReads);
    public long WorkerReads => Interlocked.Read(ref _workerReads);
    public long JobPages => Interlocked.Read(ref _jobPages);
    public long ThroughputReads => Interlocked.Read(ref _throughputReads);

    /// <summary>Runs after each id batch a bulk action by filter found (with the batch's number, 1 first): jobs arriving meanwhile.</summary>
    public Func<int, Task>? AfterFindBatch { get; set; }

    public override Task<JobPage> ListJobsAsync(JobQuery query, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _jobPages);
        return base.ListJobsAsync(query, cancellationToken);
    }

    public override Task<IReadOnlyList<QueueInfo>> GetQueuesAsync(CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _queueReads);
        return base.GetQueuesAsync(cancellationToken);
    }

    public override Task<IReadOnlyList<WorkerInfo>> GetWorkersAsync(CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _workerReads);
        return base.GetWorkersAsync(cancellationToken);
    }

    public override async Task<IReadOnlyList<JobId>> FindJobIdsAsync(JobQuery query, JobId? after, int limit, CancellationToken cancellationToken)
    {
        var ids = await base.FindJobIdsAsync(query, after, limit, cancellationToken);
        if (AfterFindBatch is { } hook)
        {
            await hook(Interlocked.Increment(ref _findBatches));
        }

        return ids;
    }

    public override Task<IReadOnlyList<JobThroughputMinute>> GetThroughputAsync(DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _throughputReads);
        return base.GetThroughputAsync(from, to, cancellationToken);
    }
}
