namespace Jobs.Sdk;

/// <content>Shutdown of the worker's own queue: buffered jobs go back at once, running ones get <see cref="JobWorkerOptions.ShutdownTimeout"/>.</content>
public sealed partial class JobWorker
{
    /// <summary>
    /// How long a stop still waits, after <see cref="JobWorkerOptions.ShutdownTimeout"/> or the caller's token, for cancelled
    /// handlers to return and then for their outcomes to be written.
    /// </summary>
    private static readonly TimeSpan ShutdownGrace = TimeSpan.FromSeconds(2);

    private async Task DrainRunningJobsAsync(CancellationToken cancellationToken)
    {
        // Jobs claimed but not started (the prefetch buffer) go straight back to the queue.
        _ready.Writer.TryComplete();
        while (_ready.Reader.TryRead(out var buffered))
        {
            buffered.Cancel(CancelReason.Shutdown);
            Finish(buffered, buffered.NotStartedOutcome());
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
        Log.ShutdownTimedOut(_logger, left.Length);
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
    /// Waits for the completer to write the outcomes reported so far; when <paramref name="cancellationToken"/> has fired (the
    /// caller stopped waiting), still for up to <see cref="ShutdownGrace"/>, so that the releases of interrupted jobs reach
    /// the store before the process exits (a store that is away cannot hold the stop up for longer).
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
        }
    }
}
