namespace Jobs.Sdk;

/// <content>
/// Queue pause: claimed jobs that wait in the prefetch buffer must not start once the queue is paused. The driver's pause
/// notification releases them at once; without notifications (poll-only mode, or one missed while reconnecting) a worker
/// that holds waiting claims asks the store every <see cref="PauseCheckInterval"/> whether the queue is paused.
/// Released claims are given back (a release outcome: pending again, attempt returned) and start after the resume.
/// </content>
public sealed partial class JobWorker
{
    /// <summary>How often a worker holding claims it has not started asks whether its queue was paused.</summary>
    private static readonly TimeSpan PauseCheckInterval = TimeSpan.FromSeconds(1);

    private Task? _pauseWatch;

    /// <summary>How many queue pause notifications this worker heard (a claim compares it before and after its round trip).</summary>
    private long _pausesHeard;

    private long PausesHeard => Interlocked.Read(ref _pausesHeard);

    /// <summary>The driver heard of a pause: counted first, so a claim in flight that reads the count after adding its runs releases them.</summary>
    private void OnQueuePaused()
    {
        Interlocked.Increment(ref _pausesHeard);
        ReleaseUnstarted();
    }

    /// <summary>
    /// A claim's reply arrived after a pause notification that came while the claim was in flight (the claim committed
    /// before the pause, the notification overtook its reply): <see cref="ReleaseUnstarted"/> ran before these runs were
    /// tracked, so the ones this claim put in the buffer (from <paramref name="firstBuffered"/> on) are released here.
    /// The ones it recorded as started run, as they would have had the reply come first. Runs must be tracked already.
    /// </summary>
    private void ReleaseBufferedIfPausedSince(long pausesHeard, JobRun[] runs, int firstBuffered)
    {
        if (PausesHeard == pausesHeard)
        {
            return;
        }

        var released = 0;
        for (var i = firstBuffered; i < runs.Length; i++)
        {
            if (runs[i].TryRelease())
            {
                Finish(runs[i], runs[i].NotStartedOutcome());
                released++;
            }
        }

        if (released > 0)
        {
            Log.QueuePausedReleased(_logger, _driver.QueueName, released);
        }
    }

    /// <summary>Releases every claim no runner has taken yet (the queue was paused). Never throws: it runs on the thread pool.</summary>
    private void ReleaseUnstarted()
    {
        try
        {
            var released = 0;
            foreach (var run in _leases.Running)
            {
                if (run.TryRelease())
                {
                    // Give the job back now, not when a runner reaches it in the buffer (all runners may be busy for long).
                    // The runner that dequeues it later only frees its slot: its outcome is reported once.
                    Finish(run, run.NotStartedOutcome());
                    released++;
                }
            }

            if (released > 0)
            {
                Log.QueuePausedReleased(_logger, _driver.QueueName, released);
            }
        }
        catch (Exception ex)
        {
            Log.MiddlewareFailed(_logger, ex, nameof(JobWorker), "queue pause");
        }
    }

    /// <summary>The fallback: while claims wait in the buffer, asks the store whether the queue was paused.</summary>
    private async Task WatchForPauseAsync(CancellationToken stop)
    {
        if (_buffer == 0)
        {
            return; // every claim has a runner of its own: nothing ever waits
        }

        while (!stop.IsCancellationRequested)
        {
            await WorkerDelay.DelayAsync(PauseCheckInterval, _time, stop).ConfigureAwait(false);
            if (stop.IsCancellationRequested || !_leases.Running.Any(r => r.IsWaiting))
            {
                continue;
            }

            try
            {
                if (await _driver.IsQueuePausedAsync(stop).ConfigureAwait(false))
                {
                    ReleaseUnstarted();
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !stop.IsCancellationRequested)
            {
                Log.QueuePauseCheckFailed(_logger, ex, _driver.QueueName);
            }
        }
    }
}
