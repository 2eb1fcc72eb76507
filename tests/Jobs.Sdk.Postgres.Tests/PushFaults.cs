using Npgsql;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// What the push-outcome tests (<see cref="PushCancellationTests"/>, <see cref="PushConnectionLossTests"/>) share: a proxy
/// that plays the network, a data source through it, the concurrency key's lock that holds a keyed push on the server,
/// and the push's outcome, returned or thrown.
/// </summary>
internal static class PushFaults
{
    public static TcpProxy StartProxy(PostgresFixture fixture)
    {
        var connection = new NpgsqlConnectionStringBuilder(fixture.ConnectionString);
        return TcpProxy.Start(connection.Host!, connection.Port);
    }

    /// <summary>A data source whose connections go through <paramref name="proxy"/>, each a new one (held replies stay with the connections they were held on).</summary>
    public static NpgsqlDataSource ThroughProxy(PostgresFixture fixture, TcpProxy proxy) => fixture.CreateDataSource(b =>
    {
        b.Host = "127.0.0.1";
        b.Port = proxy.Port;
        b.Pooling = false;
    });

    /// <summary>Takes, in a transaction of a direct connection, the lock a keyed push of <paramref name="key"/> takes first.</summary>
    public static async Task<NpgsqlTransaction> HoldKeyLockAsync(NpgsqlDataSource direct, string queue, string key)
    {
        var connection = await direct.OpenConnectionAsync();
        var tx = await connection.BeginTransactionAsync();
        await using var command = new NpgsqlCommand("SELECT pg_advisory_xact_lock(hashtextextended('jobs.key:' || $1 || chr(31) || $2, 0))", connection, tx);
        command.Parameters.Add(new NpgsqlParameter { Value = queue });
        command.Parameters.Add(new NpgsqlParameter { Value = key });
        await command.ExecuteNonQueryAsync();
        return tx;
    }

    /// <summary>Waits until the push waits for the key's lock; returns its session's process id.</summary>
    public static async Task<long> WaitingSessionAsync(NpgsqlDataSource direct)
    {
        const string waiting = "SELECT coalesce(min(pid), 0) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted";
        await TestExtensions.EventuallyAsync(async () => await direct.ScalarAsync(waiting) != 0, what: "the push waits for the key's lock");
        return await direct.ScalarAsync(waiting);
    }

    /// <summary>The push's id when it returned (a <see cref="JobId"/> result), or what it threw.</summary>
    public static async Task<(JobId? Id, Exception? Thrown)> OutcomeAsync<T>(Task<T> push)
    {
        try
        {
            var result = await push.WaitAsync(TimeSpan.FromMinutes(2));
            return (result as JobId?, null);
        }
        catch (Exception ex) when (ex is not TimeoutException)
        {
            return (null, ex);
        }
    }
}
