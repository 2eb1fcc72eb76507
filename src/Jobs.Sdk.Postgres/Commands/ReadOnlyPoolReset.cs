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
/// most once a second, and is logged once per burst. <c>cleared</c> moves the connections the pool never gets back (the
/// listener's).
/// </summary>
internal sealed class ReadOnlyPoolReset(NpgsqlDataSource dataSource, ILogger log, Action? cleared = null)
{
    private const long ClearEveryMs = 1000;
    private const long QuietBurstMs = 60_000; // a clear after this long without one starts a new burst: logged again
    private long _lastClear = long.MinValue / 2;

    /// <summary>Clears the pool when <paramref name="ex"/> is the server refusing a write, unless it was cleared within a second.</summary>
    public void OnFailure(Exception ex)
    {
        if (ex is not PostgresException { SqlState: PostgresErrorCodes.ReadOnlySqlTransaction } refused)
        {
            return;
        }

        var now = Environment.TickCount64;
        var last = Volatile.Read(ref _lastClear);
        if (now - last < ClearEveryMs || Interlocked.CompareExchange(ref _lastClear, now, last) != last)
        {
            return; // cleared a moment ago (the failures of statements that were running then), or another caller clears now
        }

        dataSource.Clear();
        cleared?.Invoke(); // connections the pool does not get back (the listener's) move too
        if (now - last >= QuietBurstMs)
        {
            PostgresLog.PoolClearedOnReadOnly(log, refused.MessageText);
        }
    }
}
