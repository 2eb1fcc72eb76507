namespace Jobs.Sdk.InMemory;

// Per-key concurrency (JobAttribute.ConcurrencyLimit): a keyed job may be claimed only while fewer than its limit of
// unfinished jobs of its key (in this queue) come before it in the key's line (KeySeq), the same gate as the PostgreSQL claim.
public sealed partial class InMemoryJobDriver
{
    /// <summary>Whether <paramref name="entry"/> may be claimed now under its concurrency key (under the lock).</summary>
    private bool PassesConcurrencyGate(Entry entry)
    {
        if (entry.ConcurrencyKey is not { } key)
        {
            return true;
        }

        var ahead = 0;
        foreach (var other in _jobs.Values)
        {
            if (other.KeySeq < entry.KeySeq && other.IsUnfinished && string.Equals(other.ConcurrencyKey, key, StringComparison.Ordinal)
                && ++ahead >= entry.ConcurrencyLimit)
            {
                return false;
            }
        }

        return true;
    }
}
