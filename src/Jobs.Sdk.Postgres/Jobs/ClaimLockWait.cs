using System.Globalization;
using Microsoft.Extensions.Logging;
using Npgsql;
using static Jobs.Sdk.Postgres.SqlParameters;

namespace Jobs.Sdk.Postgres;

/// <summary>
/// How long a limited claim of one queue waits for the lock that makes the queue's claimers take turns: a globally
/// limited queue's claim lock (<see cref="JobSql.LockQueueClaims"/>), a rate-limited queue's token bucket row
/// (<see cref="RateLimitSql.Refill"/>). Another session holds it for as long as its transaction stays open: a claim's
/// for a few milliseconds, but a process cut off in the middle of its claim keeps it until the server notices the dead
/// connection. The claim waited until its command timed out (30 s by default) and held its turn meanwhile: the queue's
/// lease renewals take turns with its claims on the queue's connection (<see cref="WorkerConnection"/>), so the leases of
/// its running jobs ended, their handlers were cancelled and the jobs ran again; and an idle queue's poll held the turn
/// of the host's other idle queues' polls. A limited claim now gives up on the lock after <see cref="For"/> (a
/// transaction-local <c>lock_timeout</c>, in the claim's own round trip): it found nothing, and the queue claims again at
/// its next wake-up or poll, the renewals having had their turn. Logged once per stretch of such claims
/// (<see cref="PostgresLog.ClaimLockBusy"/>), and once when a claim gets the lock again. A lease renewal waits the same
/// bound (<see cref="Command"/>) for a running job's row another session holds, then renews the free rows
/// (<see cref="JobSql.RenewLeasesSkippingHeld"/>, <see cref="HeldLeaseRows"/>).
/// </summary>
internal sealed class ClaimLockWait(ILogger log, string queue, TimeProvider time)
{
    /// <summary>The longest a limited claim waits for its lock when an eighth of its lease is longer.</summary>
    internal static readonly TimeSpan Longest = TimeSpan.FromSeconds(1);

    /// <summary>A globally limited queue's claim lock, as the log names it.</summary>
    public const string ClaimLock = "the queue's claim lock (GlobalConcurrency: the advisory lock 'jobs.claim:' of its schema and name)";

    /// <summary>A rate-limited queue's token bucket row, as the log names it.</summary>
    public const string BucketRow = "the queue's token bucket row (RateLimit: its row in queue_rate_limits)";

    private const string SetLockTimeout = "SELECT set_config('lock_timeout', $1, true)";

    private readonly Lock _sync = new();
    private long _since; // timestamp of the first claim that gave up in this stretch (0: none gave up since the last that got through)
    private int _gaveUp;

    /// <summary>
    /// How long a claim with <paramref name="lease"/> waits for its lock: <see cref="Longest"/>, or an eighth of the lease
    /// when that is shorter (at least a millisecond: 0 would mean no limit). The renewal waiting behind the claim is
    /// abandoned after a quarter of a lease, and the claim's lease counts from before its wait.
    /// </summary>
    public static TimeSpan For(TimeSpan lease)
    {
        var eighth = lease / 8;
        return eighth < Longest ? (eighth < TimeSpan.FromMilliseconds(1) ? TimeSpan.FromMilliseconds(1) : eighth) : Longest;
    }

    /// <summary>The statement in front of a limited claim's lock: <c>lock_timeout</c> <see cref="For"/> the lease, for the claim's transaction.</summary>
    public static NpgsqlBatchCommand Command(TimeSpan lease)
        => PostgresCommands.Command(SetLockTimeout, Text(((long)Math.Ceiling(For(lease).TotalMilliseconds)).ToString(CultureInfo.InvariantCulture)));

    /// <summary>Whether <paramref name="ex"/> is a limited claim giving up on its lock (55P03): the server aborted the claim, the connection is fine.</summary>
    public static bool GaveUp(Exception ex) => ex is PostgresException { SqlState: PostgresErrorCodes.LockNotAvailable };

    /// <summary>
    /// A claim with <paramref name="lease"/> gave up on <paramref name="lockName"/> (<see cref="ClaimLock"/>,
    /// <see cref="BucketRow"/>) with <paramref name="ex"/>: logged when it is the first of a stretch.
    /// </summary>
    public void OnGaveUp(PostgresException ex, TimeSpan lease, string lockName)
    {
        bool first;
        lock (_sync)
        {
            first = _since == 0;
            if (first)
            {
                _since = time.GetTimestamp();
            }

            _gaveUp++;
        }

        if (first)
        {
            PostgresLog.ClaimLockBusy(log, ex, queue, lockName, For(lease));
        }
    }

    /// <summary>A limited claim got its lock: ends a stretch of claims that gave up (logged).</summary>
    public void OnGotLock()
    {
        if (Volatile.Read(ref _since) == 0)
        {
            return;
        }

        long since;
        int gaveUp;
        lock (_sync)
        {
            (since, gaveUp) = (_since, _gaveUp);
            (_since, _gaveUp) = (0, 0);
        }

        if (since != 0)
        {
            PostgresLog.ClaimLockFree(log, queue, time.GetElapsedTime(since), gaveUp);
        }
    }
}
