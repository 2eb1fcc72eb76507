using System.Collections.Concurrent;
using Jobs.Sdk.Drivers;

namespace Jobs.Sdk;

/// <summary>
/// Cancel requests a worker heard for claims it does not hold (yet), kept for a lease: a cancel that commits after a claim
/// committed reaches the listener before the claim's reply can reach the claim loop, and that claim must still be cancelled
/// when it arrives. Most entries are for claims of other workers (every worker hears every cancel); they expire unused.
/// </summary>
internal sealed class EarlyCancels(TimeSpan keepFor, TimeProvider time)
{
    private const int PruneAbove = 256;
    private readonly ConcurrentDictionary<Guid, long> _heard = new();
    private readonly long _keepTicks = (long)(keepFor.TotalSeconds * time.TimestampFrequency);

    /// <summary>Remembers a cancel of claim <see cref="JobLease.LeaseToken"/> (or of any claim of the job, when the token is empty).</summary>
    public void Heard(JobLease lease)
    {
        var now = time.GetTimestamp();
        _heard[Key(lease.LeaseToken, lease.Id)] = now + _keepTicks;
        if (_heard.Count > PruneAbove)
        {
            foreach (var (key, until) in _heard)
            {
                if (until < now)
                {
                    _heard.TryRemove(new KeyValuePair<Guid, long>(key, until));
                }
            }
        }
    }

    /// <summary>Whether a cancel of this claim was heard before it arrived (and forgets it).</summary>
    public bool TakeFor(Guid leaseToken, JobId id)
        => !_heard.IsEmpty && (_heard.TryRemove(leaseToken, out _) | _heard.TryRemove(Key(Guid.Empty, id), out _));

    private static Guid Key(Guid leaseToken, JobId id) => leaseToken != Guid.Empty ? leaseToken : id.Value;
}
