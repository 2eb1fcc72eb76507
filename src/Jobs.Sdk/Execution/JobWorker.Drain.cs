using Jobs.Sdk.Drivers;

namespace Jobs.Sdk;

/// <content>Shutdown of the worker's own queue: buffered jobs go back at once, running ones get <see cref="JobWorkerOptions.ShutdownTimeout"/>.</content>
public sealed partial class JobWorker
{
    /// <summary>
    /// How long a stop still waits, after <see cref="JobWorkerOptions.ShutdownTimeout"/> or the caller's token, for cancelled
    /// handlers to return and then for their outcomes to be written.
    /// </summary>
    private static readonly TimeSpan ShutdownGrace = TimeSpan.FromSeconds(2);

    private long _stopStarted; // when (a TimeProvider timestamp) the stop began: ShutdownTimeout counts from it

    /// <summary>
    /// Waits for the claim loop to end (its claim in flight is cancelled); when <paramref name="cancellationToken"/> fires
    /// first (a host's shutdown timeout), still for up to <see cref="ShutdownGrace"/>: the claim's reply, or its give-back,
    /// is on its way, and the jobs it took must reach the buffer before it is drained.
    /// </summary>
    private async Task WaitForClaimLoopAsync(CancellationToken cancellationToken)
    {
        // A loop that failed (the store never became usable: an incompatible schema) was logged and ends the worker's
        // Completion; the stop itself succeeds (a throw here would fail the host's stop, a crash on every SIGTERM).
        // Observed, even when it ends after the waits below gave up: never reported again as an unobserved task exception.
        var loop = _claimLoop!.ObserveFault();
        await loop.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (!loop.IsCompleted)
        {
            await loop.WaitAsync(ShutdownGrace, _time, CancellationToken.None).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    /// <summary>Whether the claim loop has ended, waiting for it up to <see cref="ShutdownGrace"/> (a disposal after a stop cut short).</summary>
    private async Task<bool> ClaimLoopEndedAsync()
    {
        if (_claimLoop is { IsCompleted: false } loop)
        {
            await loop.WaitAsync(ShutdownGrace, _time, CancellationToken.None).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        return _claimLoop is null or { IsCompleted: true };
    }

    /// <summary>
    /// Hands a claim's jobs to the runners. The ones the buffer no longer takes (the stop drained it while the claim's reply
    /// was on its way: a stop cut short by the caller's token, and a reply later than the grace) go back to the queue at once.
    /// </summary>
    private Task HandOverAsync(JobRun[] runs)
    {
        List<JobRun>? late = null;
        foreach (var run in runs)
        {
            _handedOver++; // first: a runner may end the run before TryWrite returns
            if (!_ready.Writer.TryWrite(run))
            {
                _handedOver--;
                (late ??= []).Add(run);
            }
        }

        return late is null ? Task.CompletedTask : GiveBackLateAsync(late);
    }

    /// <summary>
    /// Gives back jobs claimed after the drain, written at once (the completer may have ended), within <see cref="ShutdownGrace"/>;
    /// when that fails, they wait out their lease and the rescue requeues them.
    /// </summary>
    private async Task GiveBackLateAsync(List<JobRun> late)
    {
        var outcomes = new List<JobOutcome>(late.Count);
        foreach (var run in late)
        {
            run.Cancel(CancelReason.Shutdown);
            if (run.NotStartedOutcome() is { } outcome && run.TryFinish())
            {
                outcomes.Add(outcome);
            }

            _leases.Ended(run);
        }

        try
        {
            if (outcomes.Count > 0)
            {
                using var bound = new CancellationTokenSource(ShutdownGrace, _time);
                await _driver.CompleteAsync(WorkerId, outcomes, bound.Token).ConfigureAwait(false);
            }
        }
        catch (Exception ex)
        {
            Log.LateClaimNotGivenBack(_logger, ex, outcomes.Count);
        }
        finally
        {
            foreach (var run in late)
            {
                _leases.Release(run.Job.LeaseToken);
                run.Dispose();
            }

            _slots!.Release(late.Count);
        }
    }

    private async Task DrainRunningJobsAsync(CancellationToken cancellationToken)
    {
        // Jobs claimed but not started (the prefetch buffer) go straight back to the queue.
        _ready.Writer.TryComplete();
        while (_ready.Reader.TryRead(out var buffered))
        {
            buffered.Cancel(CancelReason.Shutdown);
            Finish(buffered, buffered.NotStartedOutcome());
            Interlocked.Increment(ref _runsEnded);
        }

        var runners = Task.WhenAll(_runners);
        try
        {
            await runners.WaitAsync(_options.ShutdownTimeout, _time, cancellationToken).ConfigureAwait(false);
            return;
        }
        catch (TimeoutException)
        {
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }

        var left = _leases.Running;
        if (left.Length > 0)
        {
            Log.ShutdownTimedOut(_logger, left.Length); // an idle worker interrupts nothing: no warning for it
        }

        foreach (var run in left)
        {
            run.Cancel(CancelReason.Shutdown);
        }

        // Handlers that honour their token end almost at once and report Release themselves. Handlers that ignore it
        // keep their jobs: the lease stays renewed until they return (or the process exits and the lease expires), so
        // a job never runs on two workers at once because of a shutdown. The grace is given even when the caller's token
        // has fired (a host's ShutdownTimeout shorter than ours): interrupting a handler only helps if its release is then
        // recorded, or its job stays 'processing' until its lease expires.
        try
        {
            await runners.WaitAsync(ShutdownGrace, _time, CancellationToken.None).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
        }
    }

    /// <summary>
    /// Waits for the completion observers still running (<see cref="IJobMiddleware.OnCompletedAsync"/>, and
    /// <see cref="IJobMiddleware.OnPushAsync"/> for a retry) until <see cref="JobWorkerOptions.ShutdownTimeout"/> from the stop's
    /// start but at least <see cref="ShutdownGrace"/> (the observers of jobs that ended at the timeout, or of a handler that
    /// returned long after the stop, are not cancelled as they start), or until <paramref name="cancellationToken"/> fires;
    /// then cancels their token and waits up to <see cref="ShutdownGrace"/> more. One that still runs is left running (logged): an observer that never returns (a
    /// webhook call without a timeout) held a stop without a token (an app's own, a disposal) for ever.
    /// </summary>
    private async Task WaitForObserversAsync(CancellationToken cancellationToken)
    {
        var observers = _completer.ObserversAsync();
        if (observers.IsCompleted)
        {
            return;
        }

        var left = _options.ShutdownTimeout - _time.GetElapsedTime(Interlocked.Read(ref _stopStarted));
        await observers.WaitAsync(left > ShutdownGrace ? left : ShutdownGrace, _time, cancellationToken)
            .ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (observers.IsCompleted)
        {
            return;
        }

        _completer.StopObserving();
        await observers.WaitAsync(ShutdownGrace, _time, CancellationToken.None).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (!observers.IsCompleted)
        {
            Log.ObserversLeftRunning(_logger, WorkerId);
        }
    }

    /// <summary>
    /// Waits for the completer to write the outcomes reported so far; when <paramref name="cancellationToken"/> has fired (the
    /// caller stopped waiting), still for up to <see cref="ShutdownGrace"/>, so that the releases of interrupted jobs reach
    /// the store before the process exits (a store that is away cannot hold the stop up for longer; the completer then stops
    /// retrying).
    /// </summary>
    private async Task FlushOutcomesAsync(Task completerLoop, CancellationToken cancellationToken)
    {
        try
        {
            await completerLoop.WaitAsync(cancellationToken).ConfigureAwait(false);
            return;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }

        try
        {
            await completerLoop.WaitAsync(ShutdownGrace, _time, CancellationToken.None).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // The store is away (or gone for good: its data source disposed): stop retrying, or the completer would go on
            // after the host is disposed, logging a failure every few seconds for as long as the process lives. The jobs
            // left unwritten keep their leases until they expire, and the rescue requeues them.
            _completer.Abandon();
        }
    }
}
