namespace Jobs.Sdk;

/// <summary>
/// The claim loop's slot arithmetic: a slot is one job the worker may hold (running or buffered). Taking several free
/// slots at once lets one claim (one round trip, one commit) fill them together.
/// </summary>
internal static class ClaimSlots
{
    /// <summary>How long a busy claim loop waits for more slots to free up before it claims.</summary>
    private static readonly TimeSpan ClaimBatchWindow = TimeSpan.FromMilliseconds(2);

    /// <summary>Takes up to <paramref name="max"/> slots that are free right now, without waiting.</summary>
    public static int TakeFree(SemaphoreSlim slots, int max)
    {
        var taken = 0;
        while (taken < max && slots.Wait(0))
        {
            taken++;
        }

        return taken;
    }

    /// <summary>Waits up to <see cref="ClaimBatchWindow"/> for up to <paramref name="wanted"/> more slots to free up.</summary>
    public static async Task<int> GatherAsync(SemaphoreSlim slots, int wanted, CancellationToken cancellationToken)
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
            taken += TakeFree(slots, wanted - taken);
        }

        return taken;
    }
}
