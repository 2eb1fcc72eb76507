using Jobs.Sdk.Drivers;

namespace Jobs.Sdk;

/// <content>
/// Stop and disposal: one stop runs however many callers ask (a host's stop, a container's disposal, the app's own), and
/// one disposal; later callers wait for them.
/// </content>
public sealed partial class JobWorker
{
    private Task? _stopTask;    // the one stop (see StopAsync)
    private Task? _disposeTask; // the one disposal

    /// <summary>
    /// Stops claiming, lets running jobs finish within <see cref="JobWorkerOptions.ShutdownTimeout"/>, then cancels the
    /// rest and returns them to pending. Records every outcome before returning. Completion observers still running get the
    /// rest of <see cref="JobWorkerOptions.ShutdownTimeout"/> (at least 2 s), then their token is cancelled and they get up to
    /// 2 s more. When <paramref name="cancellationToken"/>
    /// fires first (a host's <c>HostOptions.ShutdownTimeout</c> shorter than the worker's), running jobs are cancelled at once,
    /// and the stop still waits up to 2 s for a claim in flight to return, up to 2 s for their handlers to return and up to
    /// 2 s for their outcomes to be written; jobs a claim returns later go back to pending at once.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_claimLoop is null || Volatile.Read(ref _disposed) != 0)
        {
            return; // never started, or already stopped by DisposeAsync
        }

        var mine = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (Interlocked.CompareExchange(ref _stopTask, mine.Task, null) is { } first)
        {
            // One stop runs (a host's, a disposal's, the app's own): the others wait for it, as long as their token lets them.
            await first.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            return;
        }

        var lanes = StopLanesAsync(cancellationToken);
        try
        {
            await StopOwnQueueAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await lanes.ConfigureAwait(false);
            mine.TrySetResult();
        }
    }

    private async Task StopOwnQueueAsync(CancellationToken cancellationToken)
    {
        // Not waiting for the token's callbacks, here and for the background loops (see CancelInBackground): the loops
        // themselves are waited for, within the stop's bounds.
        Interlocked.Exchange(ref _stopStarted, _time.GetTimestamp());
        _stopClaiming.CancelInBackground(_logger, $"worker {WorkerId}'s claim loop");
        await WaitForClaimLoopAsync(cancellationToken).ConfigureAwait(false);
        await DrainRunningJobsAsync(cancellationToken).ConfigureAwait(false);
        var runners = Task.WhenAll(_runners);
        if (!runners.IsCompleted)
        {
            // A handler that ignores its token still runs here (the caller stopped waiting): it keeps its lease (the
            // heartbeat and the watchdog go on) and its outcome is recorded when it returns; if the process exits first,
            // the lease expires and the job is rescued. No other worker starts the job while it runs here. The driver's
            // connections stay open for it until then, also when the host is disposed meanwhile (IHeldDisposal).
            _background = FinishAfterHandlersAsync(runners, (_driver as IHeldDisposal)?.HoldDisposal()).ObserveFault();
            _driver.RunningJobCancelled -= _leases.CancelRequested;
            _driver.QueuePaused -= OnQueuePaused;
            Log.WorkerStopped(_logger, WorkerId);
            _drained.TrySetResult();
            return;
        }

        await StopBackgroundAsync(cancellationToken).ConfigureAwait(false);
        _driver.RunningJobCancelled -= _leases.CancelRequested;
        _driver.QueuePaused -= OnQueuePaused;
        Log.WorkerStopped(_logger, WorkerId);
        _drained.TrySetResult();
    }

    private async Task FinishAfterHandlersAsync(Task runners, IAsyncDisposable? driverHold)
    {
        try
        {
            await runners.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            await StopBackgroundAsync(CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            if (driverHold is not null)
            {
                await driverHold.DisposeAsync().ConfigureAwait(false); // closes the driver's connections if it was disposed meanwhile
            }
        }
    }

    private async Task StopBackgroundAsync(CancellationToken cancellationToken)
    {
        // Every outcome is reported now; let the completer write them all, then stop the background loops.
        _completer.Complete();
        if (_completerLoop is not null)
        {
            await FlushOutcomesAsync(_completerLoop, cancellationToken).ConfigureAwait(false);
        }

        await WaitForObserversAsync(cancellationToken).ConfigureAwait(false);

        _stopBackground.CancelInBackground(_logger, $"worker {WorkerId}'s background loops");
        // Within the stop's token: a loop whose store call cannot reach the server ends when Npgsql gives the call up, and the
        // stop does not wait for that past the caller's bound (the disposal then leaves the loops' token alone).
        var loops = BackgroundLoops();
        // A loop that failed was logged: its exception is not reported again at a random GC, even after the stop's bound.
        await loops.ObserveFault().WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        ReleaseThreads();
    }

    /// <summary>The heartbeat, watchdog, rescue, unhandled-job and pause-watch loops, ended when each has.</summary>
    private Task BackgroundLoops() => Task.WhenAll(BackgroundLoopTasks());

    /// <summary>Whether every background loop has ended (no task made for the question: one left faulted would go unobserved).</summary>
    private bool BackgroundLoopsEnded() => BackgroundLoopTasks().All(static t => t.IsCompleted);

    private Task[] BackgroundLoopTasks() => [.. new[] { _heartbeat, _watchdog, _rescuerLoop, _unhandledLoop, _pauseWatch }.OfType<Task>()];

    /// <inheritdoc />
    /// <remarks>Once: concurrent and later calls wait for the first one.</remarks>
    public async ValueTask DisposeAsync()
    {
        var mine = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (Interlocked.CompareExchange(ref _disposeTask, mine.Task, null) is { } first)
        {
            await first.ConfigureAwait(false);
            return;
        }

        try
        {
            await DisposeOnceAsync().ConfigureAwait(false);
        }
        finally
        {
            mine.TrySetResult();
        }
    }

    private async Task DisposeOnceAsync()
    {
        if (_claimLoop is not null && !_drained.Task.IsCompleted)
        {
            await StopAsync(CancellationToken.None).ConfigureAwait(false);
        }

        await DisposeLanesAsync().ConfigureAwait(false);
        Volatile.Write(ref _disposed, 1);
        if (!await ClaimLoopEndedAsync().ConfigureAwait(false))
        {
            return; // a claim that ignores its token still runs: its token and slots stay usable
        }

        _stopClaiming.Dispose();
        if (_background is null && BackgroundLoopsEnded())
        {
            // With a handler still running past shutdown, the background loops own these until it returns.
            _stopBackground.Dispose();
            _slots?.Dispose();
        }
    }
}
