using Microsoft.Extensions.Logging;
using Npgsql;

namespace Jobs.Sdk.Postgres;

/// <summary>
/// Clears the data source's pool when the server refuses a write on one of its connections (25006
/// read_only_sql_transaction). Behind one host name (an RDS/Aurora cluster endpoint, a Kubernetes service, a virtual IP) a
/// failover moves the name to the new primary, but the pool's open connections stay on the old server; where that one
/// stays up read-only (Aurora's old writer becomes a reader), every write on them fails for as long as the pool keeps
/// them, which is forever by default. Npgsql's <see cref="NpgsqlDataSource.Clear"/> closes the idle connections and the
/// busy ones when they are returned, so new connections resolve the name again and reach the current primary. On a
/// server that is simply read-only for a while (a switchover, a full disk) a clear costs a reconnect, so it happens at
/// most once a second, and is logged once per burst. A read that finds the server read-only (the dashboard's check, which
/// no refusal would tell) clears it too, at most every 10 seconds. <c>cleared</c> moves the connections the pool never
/// gets back (the listener's).
/// </summary>
internal sealed class ReadOnlyPoolReset(NpgsqlDataSource dataSource, ILogger log, Action? cleared = null)
{
    private const long ClearEveryMs = 1000;
    private const long ReadClearEveryMs = 10_000; // a read-only server found by a read: maybe a read replica on purpose
    private const long QuietBurstMs = 60_000; // a clear after this long without one starts a new burst: logged again
    private long _lastClear = long.MinValue / 2;

    /// <summary>The logger of the process this pool serves (the admin store's warnings go there too).</summary>
    public ILogger Log => log;

    /// <summary>Clears the pool when <paramref name="ex"/> is the server refusing a write, unless it was cleared within a second.</summary>
    public void OnFailure(Exception ex)
    {
        if (ex is PostgresException { SqlState: PostgresErrorCodes.ReadOnlySqlTransaction } refused && TryClear(ClearEveryMs, out var logged) && logged)
        {
            PostgresLog.PoolClearedOnReadOnly(log, refused.MessageText);
        }
    }

    /// <summary>
    /// Clears the pool when a read found the server read-only (<paramref name="reason"/>), unless it was cleared within
    /// 10 seconds. Reads are never refused, so a process that only reads (a dashboard) would otherwise stay on the old
    /// primary after a failover behind one host name for as long as its pool keeps the connections. Where the server is
    /// read-only on purpose (a dashboard on a read replica) this costs one reconnect every 10 seconds.
    /// </summary>
    public void OnReadOnlyRead(string reason)
    {
        if (TryClear(ReadClearEveryMs, out var logged) && logged)
        {
            PostgresLog.PoolClearedOnReadOnlyRead(log, reason);
        }
    }

    /// <summary>Clears the pool unless it was cleared within <paramref name="everyMs"/>; <paramref name="log"/>: the first of a burst.</summary>
    private bool TryClear(long everyMs, out bool log)
    {
        var now = Environment.TickCount64;
        var last = Volatile.Read(ref _lastClear);
        log = now - last >= QuietBurstMs;
        if (now - last < everyMs || Interlocked.CompareExchange(ref _lastClear, now, last) != last)
        {
            return false; // cleared a moment ago (the failures of statements that were running then), or another caller clears now
        }

        dataSource.Clear();
        cleared?.Invoke(); // connections the pool does not get back (the listener's) move too
        return true;
    }
}
