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

        // Runners count as busy from before they read a job until before its slot is released, and only the claim loop
        // adds to the buffer, so this never overstates the runners idle when the claimed jobs are handed over.
        var idle = _options.Concurrency - Volatile.Read(ref _busyRunners) - _ready.Reader.Count;
        return Math.Clamp(idle, 0, free);
    }
}
