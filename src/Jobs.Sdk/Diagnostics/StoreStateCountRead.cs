using System.Runtime.CompilerServices;
using Jobs.Sdk.Drivers;

namespace Jobs.Sdk;

/// <summary>
/// The state gauge's read of every queue's counts in one store (<see cref="IAllQueueStateCounts"/>), shared by the samplers
/// of its queues: a sampler's refresh takes the counts of its queue from the store's latest read when that read started
/// less than <see cref="JobStateCountSampler.RefreshInterval"/> ago (or is running), else starts a new one. A process that
/// pushed to 1,000 queues ran one count statement per queue every refresh interval; now it runs one.
/// </summary>
internal sealed class StoreStateCountRead
{
    private static readonly ConditionalWeakTable<object, StoreStateCountRead> Stores = new();
    private static readonly JobCounts None = JobCounts.From([]);

    private readonly Lock _gate = new();
    private Task<IReadOnlyDictionary<string, JobCounts>>? _read;
    private long _startedAt;

    /// <summary>The counts of <paramref name="queue"/>, from a read of every queue of <paramref name="store"/>.</summary>
    public static async Task<JobCounts> ReadAsync(IAllQueueStateCounts store, string queue, TimeProvider time, CancellationToken cancellationToken)
    {
        var all = await Stores.GetValue(store.StateCountStore, _ => new StoreStateCountRead()).Latest(store, time)
            .WaitAsync(cancellationToken).ConfigureAwait(false);
        return all.TryGetValue(queue, out var counts) ? counts : None;
    }

    /// <summary>
    /// The running read, or the one that ended less than a refresh interval after it started, failed or not (during an
    /// outage the queues' refreshes fail on one read per interval, not one each); else a new read.
    /// </summary>
    private Task<IReadOnlyDictionary<string, JobCounts>> Latest(IAllQueueStateCounts store, TimeProvider time)
    {
        lock (_gate)
        {
            if (_read is null || (_read.IsCompleted && time.GetElapsedTime(_startedAt) >= JobStateCountSampler.RefreshInterval))
            {
                _startedAt = time.GetTimestamp();
                _read = ReadAllAsync(store);
            }

            return _read;
        }
    }

    /// <summary>One read, under its own timeout: it is not cancelled with the sampler that started it, others wait on it.</summary>
    private static async Task<IReadOnlyDictionary<string, JobCounts>> ReadAllAsync(IAllQueueStateCounts store)
    {
        using var timeout = new CancellationTokenSource(JobStateCountSampler.QueryTimeout);
        return await store.GetAllQueueCountsAsync(timeout.Token).ConfigureAwait(false);
    }
}
