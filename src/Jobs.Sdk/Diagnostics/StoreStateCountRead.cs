using System.Runtime.CompilerServices;
using Jobs.Sdk.Drivers;
using Microsoft.Extensions.Logging;

namespace Jobs.Sdk;

/// <summary>
/// The state gauge's read of every queue's counts in one store (<see cref="IAllQueueStateCounts"/>), shared by the samplers
/// of its queues: a sampler's refresh takes the counts of its queue from the store's latest read when that read started
/// less than <see cref="JobStateCountSampler.RefreshInterval"/> ago (or is running), else starts a new one. A process that
/// pushed to 1,000 queues ran one count statement per queue every refresh interval; now it runs one. The first read that
/// fails logs it once for every queue it serves (<see cref="InstrumentationLog.StateCountFailed"/>, naming how many), the
/// first that succeeds again logs the recovery: their samplers log nothing (1,000 queues logged 1,000 warnings each outage).
/// </summary>
internal sealed class StoreStateCountRead
{
    private static readonly ConditionalWeakTable<object, StoreStateCountRead> Stores = new();
    private static readonly JobCounts None = JobCounts.From([]);

    private readonly Lock _gate = new();
    private readonly HashSet<string> _queues = new(StringComparer.Ordinal);
    private Task<IReadOnlyDictionary<string, JobCounts>>? _read;
    private long _startedAt;
    private int _failures;

    /// <summary>
    /// The counts of <paramref name="queue"/>, from a read of every queue of <paramref name="store"/>; a read this call
    /// starts logs its failure or recovery on <paramref name="logger"/>.
    /// </summary>
    public static async Task<JobCounts> ReadAsync(IAllQueueStateCounts store, string queue, TimeProvider time, ILogger logger,
        CancellationToken cancellationToken)
    {
        var all = await Stores.GetValue(store.StateCountStore, _ => new StoreStateCountRead()).Latest(store, queue, time, logger)
            .WaitAsync(cancellationToken).ConfigureAwait(false);
        return all.TryGetValue(queue, out var counts) ? counts : None;
    }

    /// <summary>
    /// The running read, or the one that ended less than a refresh interval after it started, failed or not (during an
    /// outage the queues' refreshes fail on one read per interval, not one each); else a new read. Remembers
    /// <paramref name="queue"/> among the queues the reads serve.
    /// </summary>
    private Task<IReadOnlyDictionary<string, JobCounts>> Latest(IAllQueueStateCounts store, string queue, TimeProvider time, ILogger logger)
    {
        lock (_gate)
        {
            _queues.Add(queue);
            if (_read is null || (_read.IsCompleted && time.GetElapsedTime(_startedAt) >= JobStateCountSampler.RefreshInterval))
            {
                _startedAt = time.GetTimestamp();
                _read = ReadAllAsync(store, logger);
            }

            return _read;
        }
    }

    /// <summary>
    /// One read, under its own timeout: it is not cancelled with the sampler that started it, others wait on it. Reads run
    /// one after another (<see cref="Latest"/> starts one only when the last has ended, after it logged): no race on the
    /// failures.
    /// </summary>
    private async Task<IReadOnlyDictionary<string, JobCounts>> ReadAllAsync(IAllQueueStateCounts store, ILogger logger)
    {
        try
        {
            using var timeout = new CancellationTokenSource(JobStateCountSampler.QueryTimeout);
            var all = await store.GetAllQueueCountsAsync(timeout.Token).ConfigureAwait(false);
            if (_failures > 0)
            {
                var (count, names) = Queues();
                InstrumentationLog.StateCountRecovered(logger, count, names, _failures);
                _failures = 0;
            }

            return all;
        }
        catch (Exception ex) when (ex is not ObjectDisposedException)
        {
            if (_failures++ == 0)
            {
                var (count, names) = Queues();
                InstrumentationLog.StateCountFailed(logger, ex, count, names, JobStateCountSampler.MaxAge);
            }

            throw;
        }
    }

    /// <summary>How many queues the reads serve, and their names for a log message.</summary>
    private (int Count, string Names) Queues()
    {
        lock (_gate)
        {
            return (_queues.Count, InstrumentationLog.QueueNames(_queues.Order(StringComparer.Ordinal).ToArray()));
        }
    }
}
