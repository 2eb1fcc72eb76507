using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Jobs.Sdk;

/// <summary>
/// Tasks the SDK stops waiting for, and cancellations it does not wait for: their faults are observed (and the
/// cancellations' logged) here, so that none reaches <see cref="TaskScheduler.UnobservedTaskException"/>, which apps report
/// to their error tracker, at a random GC.
/// </summary>
internal static class BackgroundTasks
{
    /// <summary>
    /// Marks a fault of <paramref name="task"/> observed when it comes. For a task waited for with a bound
    /// (<c>WaitAsync</c> with a token or timeout): a bound that passes first detaches the wait, and a fault after it would
    /// go unobserved. The caller must already report what the fault means (or it means nothing any more).
    /// </summary>
    public static Task ObserveFault(this Task task)
    {
        if (task.IsCompleted)
        {
            _ = task.Exception;
        }
        else
        {
            task.ContinueWith(static t => _ = t.Exception, CancellationToken.None,
                TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }

        return task;
    }

    /// <inheritdoc cref="ObserveFault(Task)"/>
    public static Task<T> ObserveFault<T>(this Task<T> task)
    {
        ((Task)task).ObserveFault();
        return task;
    }

    /// <summary>
    /// The disposal of a service that runs one background loop: stops the service if no stop began (a container disposed
    /// without its host stopping), then waits for the loop, both within <paramref name="bound"/>: a store call that ignores its
    /// token (a connection stuck on a dead socket) must not hold the container's disposal.
    /// </summary>
    /// <returns>Whether the loop has ended (or never ran): only then may the disposal release what the loop uses (its token).</returns>
    public static async Task<bool> StopThenWaitAsync(Task? loop, bool stopBegan, Func<CancellationToken, Task> stopAsync, TimeSpan bound)
    {
        if (loop is not { IsCompleted: false })
        {
            return true;
        }

        using var bounded = new CancellationTokenSource(bound);
        if (!stopBegan)
        {
            await stopAsync(bounded.Token).ConfigureAwait(false);
        }

        await loop.WaitAsync(bounded.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        return loop.IsCompleted;
    }

    /// <summary>
    /// Cancels <paramref name="source"/> without waiting for its callbacks: a store call stuck on a connection that cannot
    /// reach the server runs Npgsql's cancellation (a cancel request on a new connection, up to its connection timeout) in
    /// its callback, and waiting for it held host stops far past their shutdown timeout in network partitions. A callback
    /// that throws (an app's handler registered one on its job's token) is logged once, naming <paramref name="owner"/>.
    /// </summary>
    /// <exception cref="ObjectDisposedException"><paramref name="source"/> was disposed.</exception>
    public static void CancelInBackground(this CancellationTokenSource source, ILogger? logger, string owner)
    {
        var cancelled = source.CancelAsync();
        if (cancelled.IsCompletedSuccessfully)
        {
            return;
        }

        cancelled.ContinueWith(static (t, state) =>
        {
            var (logger, owner) = ((ILogger?, string))state!;
            var failures = t.Exception!.Flatten();
            Log.CancellationCallbackFailed(logger ?? NullLogger.Instance,
                failures.InnerExceptions.Count == 1 ? failures.InnerExceptions[0] : failures, owner);
        }, (logger, owner), CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }
}
