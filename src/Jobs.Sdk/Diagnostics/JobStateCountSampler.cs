using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using Jobs.Sdk.Drivers;
using Microsoft.Extensions.Logging;

namespace Jobs.Sdk;

/// <summary>
/// Caches one driver's <see cref="IJobDriver.GetCountsAsync"/> (for a driver of a store that counts all its queues at once,
/// <see cref="IAllQueueStateCounts"/>: its queue's counts from the store's shared read, <see cref="StoreStateCountRead"/>)
/// for the state gauge: the gauge callback never waits
/// on the store; it returns the cached counts and starts a background refresh when they are older than
/// <see cref="RefreshInterval"/>. The refreshes of every queue of a store take turns (<see cref="Turns"/>). While
/// refreshes fail (the store is out of reach), the counts are reported for <see cref="MaxAge"/> after their sample, then
/// not at all until a refresh succeeds: an alert must see the series stop, not a flat line of counts from before the outage.
/// The first failed refresh logs why (<see cref="InstrumentationLog.StateCountFailed"/>), the first that succeeds again
/// logs the recovery; the failures between are not logged (an outage would log one per refresh interval and queue). A
/// queue whose counts come from its store's shared read logs nothing itself: the read logs once for all the queues it
/// serves (an outage of a process with 1,000 queues logged 1,000 warnings); when its refresh runs out of time while the
/// store answers, it tells the store's read, which warns once for the store's stale queues
/// (<see cref="StoreStateCountRead.TimedOut"/>).
/// </summary>
internal sealed class JobStateCountSampler
{
    internal static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(5);
    internal static readonly TimeSpan QueryTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How old a sample may be, once the latest refresh failed, and still be reported: three refresh intervals, so a
    /// single failed query (a blip) leaves no gap for a collector that reads every few seconds. A sample whose latest
    /// refresh succeeded is reported however old it is: an exporter that collects once a minute finds every sample a
    /// minute old (its collection starts the next refresh).
    /// </summary>
    internal static readonly TimeSpan MaxAge = 3 * RefreshInterval;

    /// <summary>
    /// One refresh at a time per store (<see cref="TurnsOf"/>): an exporter's collection finds every queue's counts stale at
    /// once, and without turns each queue's refresh rented a pooled connection at the same instant (a host serving eleven
    /// queues doubled its server connections at each collection). The wait counts against <see cref="QueryTimeout"/>: a
    /// refresh that cannot get its turn in time keeps the previous counts, as a failed one does. Drivers that count queue
    /// by queue (no <see cref="IAllQueueStateCounts"/>: the in-memory driver, custom ones) share these process-wide turns.
    /// </summary>
    private static readonly SemaphoreSlim Turns = new(1, 1);

    /// <summary>
    /// The turns of each store that counts all its queues at once (keyed by <see cref="IAllQueueStateCounts.StateCountStore"/>):
    /// its queues' refreshes take turns, and another store's do not wait for them. With process-wide turns, a store whose
    /// count read hung (a server that took the request and never answered) held the only turn for its whole 10 s timeout
    /// at every refresh, and the counts of every other store in the process went stale and stopped.
    /// </summary>
    private static readonly ConditionalWeakTable<object, SemaphoreSlim> StoreTurns = new();

    private readonly IJobDriver _driver;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private Sample? _sample;
    private volatile bool _failing;
    private int _failures;
    private long _refreshedAt;
    private volatile bool _refreshed;
    private Task _refresh = Task.CompletedTask;

    internal JobStateCountSampler(IJobDriver driver, TimeProvider time, ILogger logger)
    {
        _driver = driver;
        _time = time;
        _logger = logger;
    }

    /// <summary>
    /// How long one refresh may take, its wait for its turn included (<see cref="QueryTimeout"/>, on the real clock); a test
    /// shortens it to time a refresh out behind a count read that then succeeds, without waiting for the read's own timeout.
    /// </summary>
    internal TimeSpan RefreshTimeout { get; set; } = QueryTimeout;

    /// <summary>
    /// The latest counts (<see langword="null"/> before the first successful query, and while refreshes fail once the
    /// counts are older than <see cref="MaxAge"/>); refreshes in the background when stale.
    /// </summary>
    public JobCounts? GetCounts()
    {
        if (!_refreshed || _time.GetElapsedTime(Interlocked.Read(ref _refreshedAt)) >= RefreshInterval)
        {
            _ = RefreshAsync();
        }

        var sample = Volatile.Read(ref _sample);
        return sample is null || (_failing && _time.GetElapsedTime(sample.At) > MaxAge) ? null : sample.Counts;
    }

    /// <summary>Starts a refresh unless one is running; completes when it ends (never throws).</summary>
    internal Task RefreshAsync()
    {
        lock (_gate)
        {
            if (_refresh.IsCompleted)
            {
                // Not in the collecting caller's context: an exporter collecting inside a request (a scrape endpoint)
                // found the count query in that request's trace, though the collection never waits for it.
                _refresh = DetachedContext.Start(RefreshCoreAsync);
            }

            return _refresh;
        }
    }

    private async Task RefreshCoreAsync()
    {
        var failed = true;
        // A queue of a shared read logs nothing itself, not even when its turn does not come in time: during an outage the
        // turns queue behind the read that waits for the store, and each queue logged its own warning. When it runs out of
        // time while the store answers (a slow read, a long wait for its turn), it tells the store's read, which warns once.
        var shared = _driver as IAllQueueStateCounts;
        using var timeout = new CancellationTokenSource(RefreshTimeout);
        try
        {
            var turns = TurnsOf(shared);
            await turns.WaitAsync(timeout.Token).ConfigureAwait(false);
            try
            {
                var counts = shared is not null
                    ? await StoreStateCountRead.ReadAsync(shared, _driver.QueueName, _time, _logger, timeout.Token).ConfigureAwait(false)
                    : await _driver.GetCountsAsync(timeout.Token).ConfigureAwait(false);
                Volatile.Write(ref _sample, new Sample(counts, _time.GetTimestamp()));
                failed = false;
                Recovered();
            }
            finally
            {
                turns.Release();
            }
        }
        catch (ObjectDisposedException)
        {
            JobsInstrumentation.ForgetQueue(_driver);
        }
#pragma warning disable CA1031 // a failed sample keeps the previous value (for MaxAge); the health check reports store errors
        catch (Exception ex)
#pragma warning restore CA1031
        {
            if (shared is null)
            {
                Failed(ex);
            }
            else if (ex is OperationCanceledException && timeout.IsCancellationRequested)
            {
                StoreStateCountRead.TimedOut(shared, _driver.QueueName, _logger);
            }
        }
        finally
        {
            _failing = failed;
            Interlocked.Exchange(ref _refreshedAt, _time.GetTimestamp());
            _refreshed = true;
        }
    }

    /// <summary>The turns a refresh of a queue of <paramref name="store"/> waits for (<see cref="Turns"/>, <see cref="StoreTurns"/>).</summary>
    private static SemaphoreSlim TurnsOf(IAllQueueStateCounts? store)
        => store is null ? Turns : StoreTurns.GetValue(store.StateCountStore, static _ => new SemaphoreSlim(1, 1));

    /// <summary>Logs the first failure since the last success (one refresh runs at a time: no race on the count).</summary>
    private void Failed(Exception exception)
    {
        if (_failures++ == 0)
        {
            InstrumentationLog.StateCountFailed(_logger, exception, 1, InstrumentationLog.QueueNames([_driver.QueueName]), MaxAge);
        }
    }

    /// <summary>Logs that a refresh succeeded after failures (a queue of a shared read: tells the read, which logs).</summary>
    private void Recovered()
    {
        if (_driver is IAllQueueStateCounts shared)
        {
            StoreStateCountRead.Refreshed(shared, _driver.QueueName, _logger);
        }
        else if (_failures > 0)
        {
            InstrumentationLog.StateCountRecovered(_logger, 1, InstrumentationLog.QueueNames([_driver.QueueName]), _failures);
            _failures = 0;
        }
    }

    /// <summary>Counts and when (a <see cref="TimeProvider"/> timestamp) they were read.</summary>
    private sealed record Sample(JobCounts Counts, long At);
}
