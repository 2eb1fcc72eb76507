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
/// A queue whose refresh runs out of time while the store answers (it waited for its turn, or for a slow read that then
/// succeeded) says so here (<see cref="TimedOut"/>): the store warns once for its stale queues
/// (<see cref="InstrumentationLog.StateCountStale"/>) and says when every one of them refreshed again
/// (<see cref="Refreshed"/>). Their series stopped without a word: no read failed, and a sampler of a shared read logs nothing.
/// </summary>
internal sealed class StoreStateCountRead
{
    private static readonly ConditionalWeakTable<object, StoreStateCountRead> Stores = new();
    private static readonly JobCounts None = JobCounts.From([]);

    private readonly Lock _gate = new();
    private readonly HashSet<string> _queues = new(StringComparer.Ordinal);
    private readonly HashSet<string> _stale = new(StringComparer.Ordinal);
    private readonly HashSet<string> _warned = new(StringComparer.Ordinal);
    private Task<IReadOnlyDictionary<string, JobCounts>>? _read;
    private bool _reading;
    private long _startedAt;
    private int _failures;

    /// <summary>
    /// The counts of <paramref name="queue"/>, from a read of every queue of <paramref name="store"/>; a read this call
    /// starts logs its failure or recovery on <paramref name="logger"/>.
    /// </summary>
    public static async Task<JobCounts> ReadAsync(IAllQueueStateCounts store, string queue, TimeProvider time, ILogger logger,
        CancellationToken cancellationToken)
    {
        var all = await Of(store).Latest(store, queue, time, logger).WaitAsync(cancellationToken).ConfigureAwait(false);
        return all.TryGetValue(queue, out var counts) ? counts : None;
    }

    /// <summary>
    /// The refresh of <paramref name="queue"/> ran out of time (waiting for its turn or for the read). While a read runs, the
    /// warning waits for its end: a read that fails logs the outage (<see cref="InstrumentationLog.StateCountFailed"/>),
    /// one that succeeds warns for the queues it left stale. Else warns now, unless the latest read failed.
    /// </summary>
    public static void TimedOut(IAllQueueStateCounts store, string queue, ILogger logger)
    {
        var read = Of(store);
        lock (read._gate)
        {
            read._stale.Add(queue);
            if (read._reading)
            {
                return;
            }
        }

        read.WarnStale(store, logger);
    }

    /// <summary>
    /// The refresh of <paramref name="queue"/> succeeded: when it was the last stale queue since a warning, logs that they
    /// are current again.
    /// </summary>
    public static void Refreshed(IAllQueueStateCounts store, string queue, ILogger logger)
    {
        var read = Of(store);
        int count;
        string names;
        lock (read._gate)
        {
            if (!read._stale.Remove(queue) || read._stale.Count > 0 || read._warned.Count == 0)
            {
                return;
            }

            (count, names) = (read._warned.Count, InstrumentationLog.QueueNames(read._warned.Order(StringComparer.Ordinal).ToArray()));
            read._warned.Clear();
        }

        InstrumentationLog.StateCountCurrent(logger, count, names, store.StateCountStoreName);
    }

    private static StoreStateCountRead Of(IAllQueueStateCounts store) => Stores.GetValue(store.StateCountStore, _ => new StoreStateCountRead());

    /// <summary>
    /// Warns once for the stale queues (until they are all current again), not while the latest read failed (the outage's
    /// 1300 says why); queues stale since the warning join it for <see cref="Refreshed"/>.
    /// </summary>
    private void WarnStale(IAllQueueStateCounts store, ILogger logger)
    {
        int count;
        string names;
        lock (_gate)
        {
            if (_stale.Count == 0 || _failures > 0)
            {
                return;
            }

            var first = _warned.Count == 0;
            _warned.UnionWith(_stale);
            if (!first)
            {
                return;
            }

            (count, names) = (_stale.Count, InstrumentationLog.QueueNames(_stale.Order(StringComparer.Ordinal).ToArray()));
        }

        InstrumentationLog.StateCountStale(logger, count, names, store.StateCountStoreName, JobStateCountSampler.QueryTimeout,
            JobStateCountSampler.MaxAge);
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
                _reading = true; // before the read starts: it may end at once
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
            Ended();
            WarnStale(store, logger); // the queues that ran out of time waiting for it, though the store answered
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
            var first = _failures++ == 0;
            Ended();
            if (first)
            {
                var (count, names) = Queues();
                InstrumentationLog.StateCountFailed(logger, ex, count, names, JobStateCountSampler.MaxAge);
            }

            throw;
        }
    }

    /// <summary>
    /// The read ended, its failure counted: from here a queue that runs out of time warns itself (<see cref="TimedOut"/>).
    /// Before this read's samplers see its counts, so a queue's success never comes before its warning.
    /// </summary>
    private void Ended()
    {
        lock (_gate)
        {
            _reading = false;
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
