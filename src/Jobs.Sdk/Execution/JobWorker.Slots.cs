namespace Jobs.Sdk;

/// <content>Slots: how many jobs one claim asks for, and how many of them a runner takes at once.</content>
public sealed partial class JobWorker
{
    /// <summary>
    /// How many of the next <paramref name="free"/> claimed jobs a runner takes at once (the claim records them started;
    /// the rest wait in the prefetch buffer, claimed not started, and their attempt counts only once they start).
    /// <see langword="null"/> (all) without prefetch: every held job has a runner of its own.
    /// </summary>
    private int? StartingNow(int free)
    {
        if (_options.Prefetch == 0)
        {
            return null;
        }

        // Runners count as busy from before they read a job until before its slot is released, and only the claim loop
        // adds to the buffer, so this never overstates the runners idle when the claimed jobs are handed over.
        var idle = _options.Concurrency - Volatile.Read(ref _busyRunners) - _ready.Reader.Count;
        return Math.Clamp(idle, 0, free);
    }

    private static int TakeFreeSlots(SemaphoreSlim slots, int max)
    {
        var taken = 0;
        while (taken < max && slots.Wait(0))
        {
            taken++;
        }

        return taken;
    }

    /// <summary>Waits up to <see cref="ClaimBatchWindow"/> for up to <paramref name="wanted"/> more slots to free up.</summary>
    private static async Task<int> GatherSlotsAsync(SemaphoreSlim slots, int wanted, CancellationToken cancellationToken)
    {
        var taken = 0;
        var deadline = Environment.TickCount64 + (long)ClaimBatchWindow.TotalMilliseconds;
        while (taken < wanted)
        {
            var left = deadline - Environment.TickCount64;
            if (left <= 0)
            {
                break;
            }

            try
            {
                if (!await slots.WaitAsync(TimeSpan.FromMilliseconds(left), cancellationToken).ConfigureAwait(false))
                {
                    break;
                }
            }
            catch (OperationCanceledException)
            {
                break;
            }

            taken++;
            taken += TakeFreeSlots(slots, wanted - taken);
        }

        return taken;
    }
}
