using System.Net.Sockets;
using Npgsql;

namespace Jobs.Sdk.Postgres;

/// <summary>Which failures are worth retrying (the server or network went away) and how long to back off.</summary>
internal static class PostgresRetry
{
    /// <summary>
    /// Whether <paramref name="ex"/> says the server is away for now: the network or the server went away, the server is
    /// shutting down or starting up (57P01, 57P02, 57P03), or it refuses writes (25006 read_only_sql_transaction: a hot
    /// standby not yet promoted, or <c>default_transaction_read_only</c> during a switchover or on a full disk).
    /// </summary>
    public static bool IsTransient(Exception ex) => ex switch
    {
        PostgresException pg => pg.IsTransient || pg.SqlState is "57P01" or "57P02" or "57P03" or "08006" or "08001" or "08004"
            or PostgresErrorCodes.ReadOnlySqlTransaction,
        NpgsqlException npg => npg.IsTransient || npg.InnerException is SocketException or IOException or TimeoutException,
        SocketException or TimeoutException or IOException => true,
        _ => false,
    };

    /// <summary>100 ms doubling per failure, at most 5 s.</summary>
    public static TimeSpan Backoff(int failures)
        => TimeSpan.FromMilliseconds(Math.Min(5000, 100 * Math.Pow(2, Math.Min(failures - 1, 10))));
}
