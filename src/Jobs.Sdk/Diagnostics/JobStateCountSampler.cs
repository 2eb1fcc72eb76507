using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using Jobs.Sdk.Drivers;

namespace Jobs.Sdk;

/// <summary>
/// Caches one driver's <see cref="IJobDriver.GetCountsAsync"/> for the state gauge: the gauge callback never waits
/// on the store; it returns the cached counts and starts a background refresh when they are older than
/// <see cref="RefreshInterval"/>. The refreshes of every queue in the process take turns (<see cref="Turns"/>).
/// </summary>
internal sealed class JobStateCountSampler
{
    internal static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(5);
    internal static readonly TimeSpan QueryTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// One refresh at a time in the process: an exporter's collection finds every queue's counts stale at once, and without
    /// turns each queue's refresh rented a pooled connection at the same instant (a host serving eleven queues doubled its
    /// server connections at each collection). The wait counts against <see cref="QueryTimeout"/>: a refresh that cannot
    /// get its turn in time keeps the previous counts, as a failed one does.
    /// </summary>
    private static readonly SemaphoreSlim Turns = new(1, 1);

    private readonly IJobDriver _driver;
    private readonly Lock _gate = new();
    private JobCounts? _counts;
    private long _refreshedAt;
    private Task _refresh = Task.CompletedTask;

    internal JobStateCountSampler(IJobDriver driver) => _driver = driver;

    /// <summary>The latest counts (<see langword="null"/> before the first successful query); refreshes in the background when stale.</summary>
    public JobCounts? GetCounts()
    {
        var refreshedAt = Interlocked.Read(ref _refreshedAt);
        if (refreshedAt == 0 || Environment.TickCount64 - refreshedAt >= (long)RefreshInterval.TotalMilliseconds)
        {
            _ = RefreshAsync();
        }

        return Volatile.Read(ref _counts);
    }

    /// <summary>Starts a refresh unless one is running; completes when it ends (never throws).</summary>
    internal Task RefreshAsync()
    {
        lock (_gate)
        {
            if (_refresh.IsCompleted)
            {
                _refresh = Task.Run(RefreshCoreAsync);
            }

            return _refresh;
        }
    }

    private async Task RefreshCoreAsync()
    {
        try
        {
            using var timeout = new CancellationTokenSource(QueryTimeout);
            await Turns.WaitAsync(timeout.Token).ConfigureAwait(false);
            try
            {
                var counts = await _driver.GetCountsAsync(timeout.Token).ConfigureAwait(false);
                Volatile.Write(ref _counts, counts);
            }
            finally
            {
                Turns.Release();
            }
        }
        catch (ObjectDisposedException)
        {
            JobsInstrumentation.ForgetQueue(_driver);
        }
#pragma warning disable CA1031 // a failed sample keeps the previous value; the health check reports store errors
        catch (Exception)
#pragma warning restore CA1031
        {
        }
        finally
        {
            Interlocked.Exchange(ref _refreshedAt, Math.Max(Environment.TickCount64, 1));
        }
    }
}
