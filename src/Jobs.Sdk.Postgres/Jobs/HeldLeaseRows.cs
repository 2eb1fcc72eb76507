using System.Collections.Concurrent;
using Jobs.Sdk.Drivers;
using Microsoft.Extensions.Logging;

namespace Jobs.Sdk.Postgres;

/// <summary>
/// The running jobs of one queue whose rows another session held when the worker renewed their leases
/// (<see cref="JobSql.RenewLeasesSkippingHeld"/>): an operator's open transaction that updated a running job (<c>BEGIN;
/// UPDATE jobs …</c> left idle in transaction), an admin action stuck in its transaction. The renewal waited for the row
/// and kept every other running job of the queue from its renewal until the leases ended; it now renews the others, and
/// leaves the held job's lease as it was (its handler goes on until the lease ends, and the next renewal tries again).
/// Logged once per claim (<see cref="PostgresLog.LeaseRowHeld"/>), and once when that claim is renewed again
/// (<see cref="PostgresLog.LeaseRowFree"/>).
/// </summary>
internal sealed class HeldLeaseRows(ILogger log, string queue, TimeProvider time)
{
    private readonly ConcurrentDictionary<Guid, long> _since = new(); // lease token: when a renewal first found its row held

    /// <summary>A renewal could not renew <paramref name="lease"/>: another session, <paramref name="holder"/> (null: not known), holds its row.</summary>
    public void Held(JobLease lease, int? holder, TimeSpan leaseDuration)
    {
        if (_since.TryAdd(lease.LeaseToken, time.GetTimestamp()))
        {
            PostgresLog.LeaseRowHeld(log, queue, lease.Id, holder is { } pid ? "pid " + pid : "a session PostgreSQL does not name (several transactions share the row's lock)",
                leaseDuration);
        }
    }

    /// <summary>
    /// A renewal of <paramref name="leases"/> ended, <paramref name="notRenewed"/> (held again) and
    /// <paramref name="lost"/> aside: the claims found held before and renewed now are logged, and forgotten with the lost ones.
    /// </summary>
    public void Renewed(IReadOnlyList<JobLease> leases, IReadOnlyList<JobLease> notRenewed, IReadOnlyList<JobLease> lost)
    {
        if (_since.IsEmpty)
        {
            return;
        }

        foreach (var lease in lost)
        {
            _since.TryRemove(lease.LeaseToken, out _);
        }

        foreach (var lease in leases)
        {
            if (!notRenewed.Any(h => h.LeaseToken == lease.LeaseToken) && _since.TryRemove(lease.LeaseToken, out var since))
            {
                PostgresLog.LeaseRowFree(log, queue, lease.Id, time.GetElapsedTime(since));
            }
        }
    }

    /// <summary>The worker no longer holds the claims of <paramref name="leases"/> it did not send again: forgets them (no log).</summary>
    public void Forget(IReadOnlyList<JobLease> leases)
    {
        if (_since.IsEmpty)
        {
            return;
        }

        foreach (var token in _since.Keys)
        {
            if (!leases.Any(l => l.LeaseToken == token))
            {
                _since.TryRemove(token, out _);
            }
        }
    }
}
