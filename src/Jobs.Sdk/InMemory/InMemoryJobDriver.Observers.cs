using Jobs.Sdk.Drivers;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Jobs.Sdk.InMemory;

// The driver's public events (QueuePaused, RunningJobCancelled) have the worker's handlers and maybe an app's observers.
// Each handler runs on its own: one that throws is logged (events 1022, 1023) and neither ends the process (an exception on
// a thread-pool work item does), nor fails the caller's pause or cancel, nor keeps the handlers after it, the worker's
// among them, from hearing of it; as PostgresNotifier does for the PostgreSQL driver.
public sealed partial class InMemoryJobDriver
{
    private ILogger _observerLog = NullLogger.Instance;

    /// <summary>Where a throwing handler of the driver's events is reported (<c>UseInMemory</c> sets the app's; a view uses its root's).</summary>
    internal ILogger ObserverLog
    {
        get => (_root ?? this)._observerLog;
        init => _observerLog = GuardedLogger.For(value);
    }

    /// <summary>Runs each handler of <see cref="RunningJobCancelled"/> on its own, on the caller's thread (outside the lock).</summary>
    private static void RaiseRunningJobCancelled(Action<JobLease>? handlers, JobLease lease, ILogger logger)
    {
        if (handlers is null)
        {
            return;
        }

        foreach (var handler in handlers.GetInvocationList())
        {
            try
            {
                ((Action<JobLease>)handler)(lease);
            }
            catch (Exception ex)
            {
                Log.RunningJobCancelledHandlerFailed(logger, ex, lease.Id);
            }
        }
    }

    /// <summary>Runs each handler of <see cref="QueuePaused"/> on its own (the caller queued this on the thread pool).</summary>
    private static void RunQueuePausedHandlers(Action handlers, ILogger logger, string queue)
    {
        foreach (var handler in handlers.GetInvocationList())
        {
            try
            {
                ((Action)handler)();
            }
            catch (Exception ex)
            {
                Log.QueuePausedHandlerFailed(logger, ex, queue);
            }
        }
    }
}
