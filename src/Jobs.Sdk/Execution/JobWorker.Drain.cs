namespace Jobs.Sdk;

/// <content>Shutdown of the worker's own queue: buffered jobs go back at once, running ones get <see cref="JobWorkerOptions.ShutdownTimeout"/>.</content>
public sealed partial class JobWorker
{
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
        // a job never runs on two workers at once because of a shutdown.
        try
        {
            await runners.WaitAsync(TimeSpan.FromSeconds(2), _time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }
}
