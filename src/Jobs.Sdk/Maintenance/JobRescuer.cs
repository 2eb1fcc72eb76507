using Jobs.Sdk.Drivers;
using Microsoft.Extensions.Logging;

namespace Jobs.Sdk;

/// <summary>
/// A maintenance service run by every worker: every <see cref="JobWorkerOptions.RescueInterval"/> it asks the driver to
/// requeue the jobs whose lease expired (their worker stopped renewing it: crashed, frozen, or cut off from the store).
/// The queues of one host take turns (<see cref="MaintenanceTurn"/>).
/// </summary>
internal sealed class JobRescuer
{
    private readonly IJobDriver _driver;
    private readonly TimeSpan _interval;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private long _passes;

    public JobRescuer(IJobDriver driver, TimeSpan interval, TimeProvider time, ILogger logger)
    {
        _driver = driver;
        _interval = interval;
        _time = time;
        _logger = logger;
    }

    /// <summary>
    /// The turn shared with the other queues of the host (null: a worker on its own): passes take it one after another,
    /// and this lane's are placed at <see cref="Slot"/> in the interval (see <see cref="MaintenanceTurn"/>).
    /// </summary>
    public MaintenanceTurn? Turn { get; init; }

    /// <summary>This lane's place in <see cref="Turn"/>.</summary>
    public int Slot { get; init; }

    /// <summary>Passes run so far, whether they got through or failed (tests wait on it).</summary>
    public long Passes => Interlocked.Read(ref _passes);

    /// <summary>Told of each pass that got through or failed, and asked before a pass after an outage (null: no such wait).</summary>
    public StoreWrites? Writes { get; init; }

    /// <summary>
    /// How long writes must have worked again after an outage (a write of this worker failed) before a pass: the holders of
    /// the leases the outage ended renew them or record their outcomes first.
    /// </summary>
    public TimeSpan AfterOutage { get; init; }

    /// <summary>
    /// The rescue loop, until <paramref name="stop"/>; store errors are logged and the loop goes on. The first pass waits
    /// for <paramref name="firstClaim"/> (the worker's first claim returned), at most one interval.
    /// </summary>
    public async Task RunAsync(Task firstClaim, CancellationToken stop)
    {
        // Beside a starting worker's first claim, the first pass would open a second connection (one more backend) while
        // the claim opens its own, and the first job would start later; after it, the pass finds the claim's connection
        // idle in the pool. A claim that hangs holds the pass back one interval at most, as long as any lease waits anyway.
        await firstClaim.WaitAsync(_interval, _time, stop).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        var first = true;
        while (!stop.IsCancellationRequested)
        {
            if (Writes is { } writes && !writes.WorkingFor(AfterOutage))
            {
                // The store was away (or read-only): every lease held across the outage has ended on the server, and their
                // workers may not have tried again yet (a job whose handler returned would run twice).
                await WorkerDelay.DelayAsync(_interval, _time, stop).ConfigureAwait(false);
                continue;
            }

            try
            {
                var entered = Turn is { } turn && await turn.EnterAsync(_interval, _time, stop).ConfigureAwait(false);
                int rescued;
                try
                {
                    rescued = await _driver.RescueExpiredLeasesAsync(stop).ConfigureAwait(false);
                }
                finally
                {
                    if (entered)
                    {
                        Turn!.Exit();
                    }
                }

                Writes?.Worked();
                if (rescued > 0)
                {
                    Log.Rescued(_logger, rescued);
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                Writes?.Failed();
                Log.RescueFailed(_logger, ex);
            }

            Interlocked.Increment(ref _passes);
            var wait = first && Turn is { } spread ? spread.FirstWait(Slot, _interval) : _interval;
            first = false;
            await WorkerDelay.DelayAsync(wait, _time, stop).ConfigureAwait(false);
        }
    }
}
