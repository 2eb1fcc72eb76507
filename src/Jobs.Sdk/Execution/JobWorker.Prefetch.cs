namespace Jobs.Sdk;

/// <content>
/// The prefetch buffer's size: the claim loop holds back (reserves) the buffer slots the sizer does not want now, so that
/// the jobs it may hold are Concurrency + <see cref="PrefetchSizer.Target"/> (by time when adaptive, and within the
/// payload byte budget either way).
/// </content>
public sealed partial class JobWorker
{
    /// <summary>Before the claim loop waits for a slot: hands it the buffer slots the target grew by, or takes back free ones.</summary>
    private void AdjustBuffer(SemaphoreSlim slots)
    {
        if (_sizer is not { } sizer)
        {
            return;
        }

        var reserve = _buffer - sizer.Target;
        if (_reserved > reserve)
        {
            slots.Release(_reserved - reserve);
            _reserved = reserve;
        }
        else if (_reserved < reserve)
        {
            _reserved += ClaimSlots.TakeFree(slots, reserve - _reserved);
        }
    }

    /// <summary>
    /// Of the <paramref name="free"/> slots the claim loop just took, keeps in the reserve those the target shrank by and
    /// <see cref="AdjustBuffer"/> found in use (larger payloads arrived while the buffer was full: its jobs free the slots
    /// one by one, and they must not be claimed again). Returns the slots left to claim with.
    /// </summary>
    private int KeepForReserve(int free)
    {
        if (_sizer is not { } sizer)
        {
            return free;
        }

        var owed = _buffer - sizer.Target - _reserved;
        if (owed <= 0)
        {
            return free;
        }

        var kept = Math.Min(owed, free);
        _reserved += kept;
        return free - kept;
    }
}
