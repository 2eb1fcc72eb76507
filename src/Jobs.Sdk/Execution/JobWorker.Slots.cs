namespace Jobs.Sdk;

/// <content>How many of the jobs one claim takes a runner starts at once.</content>
public sealed partial class JobWorker
{
    /// <summary>
    /// How many of the next <paramref name="free"/> claimed jobs a runner takes at once (the claim records them started;
    /// the rest wait in the prefetch buffer, claimed not started, and their attempt counts only once they start).
    /// <see langword="null"/> (all) without a prefetch buffer: every held job has a runner of its own.
    /// </summary>
    private int? StartingNow(int free)
    {
        if (_buffer == 0)
        {
            return null;
        }

        // Every run handed over and not ended holds a runner (running) or waits for one (in the buffer, or on its way to a
        // runner that waited for it). Only the claim loop hands over, and runs count as ended only before their slots are
        // released, so this never overstates the runners idle when the claimed jobs are handed over.
        var idle = _options.Concurrency - (int)(_handedOver - Interlocked.Read(ref _runsEnded));
        return Math.Clamp(idle, 0, free);
    }
}
