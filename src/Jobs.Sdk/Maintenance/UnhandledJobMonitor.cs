using Jobs.Sdk.Drivers;
using Microsoft.Extensions.Logging;

namespace Jobs.Sdk;

/// <summary>
/// A maintenance service run by every worker: every <see cref="JobWorkerOptions.UnhandledJobCheckInterval"/> it asks the
/// driver for job names that have been due for longer than <see cref="JobWorkerOptions.UnhandledJobWarningAfter"/> and
/// logs a warning for each one this worker has no handler for. Workers claim only names they have registered, so such
/// jobs wait (they are not failed) until a worker that knows them runs: during a rolling deploy that is expected for a
/// while; a warning that persists means no deployed version handles the name.
/// </summary>
internal sealed class UnhandledJobMonitor(IJobDriver driver, JobRegistry registry, JobWorkerOptions options, TimeProvider time, ILogger logger)
{
    /// <summary>The turn shared with the other queues of the host (null: a worker on its own), see <see cref="JobRescuer.Turn"/>.</summary>
    public MaintenanceTurn? Turn { get; init; }

    /// <summary>This lane's place in <see cref="Turn"/>: its first check comes (slot + 1) / N of an interval after the start.</summary>
    public int Slot { get; init; }

    /// <summary>One check: warns for every overdue name without a handler here. Returns the names it warned about.</summary>
    public async Task<IReadOnlyList<WaitingJobName>> CheckAsync(CancellationToken cancellationToken)
    {
        var waiting = await driver.GetWaitingNamesAsync(options.UnhandledJobWarningAfter, cancellationToken).ConfigureAwait(false);
        List<WaitingJobName>? unhandled = null;
        var now = time.GetUtcNow();
        foreach (var name in waiting)
        {
            if (!registry.TryGet(name.Name, out _))
            {
                (unhandled ??= []).Add(name);
                Log.UnhandledJobsWaiting(logger, name.Count, name.Name, driver.QueueName, now - name.OldestRunAt);
            }
        }

        return unhandled ?? (IReadOnlyList<WaitingJobName>)[];
    }

    /// <summary>The check loop, until <paramref name="stop"/>; store errors are logged at debug level and the loop goes on.</summary>
    public async Task RunAsync(CancellationToken stop)
    {
        var interval = options.UnhandledJobCheckInterval;
        var wait = Turn is { } spread ? spread.FirstWait(Slot, interval) : interval;
        while (!stop.IsCancellationRequested)
        {
            await WorkerDelay.DelayAsync(wait, time, stop).ConfigureAwait(false);
            wait = interval;
            try
            {
                var entered = Turn is { } turn && await turn.EnterAsync(interval, time, stop).ConfigureAwait(false);
                try
                {
                    await CheckAsync(stop).ConfigureAwait(false);
                }
                finally
                {
                    if (entered)
                    {
                        Turn!.Exit();
                    }
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                Log.UnhandledJobCheckFailed(logger, ex);
            }
        }
    }
}
