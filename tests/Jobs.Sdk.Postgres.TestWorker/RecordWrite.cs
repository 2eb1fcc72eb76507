using Npgsql;

/// <summary>
/// A test handler's write of its record of a run (its start, its end, its row in the runs table). A server restart while
/// a handler writes fails that statement (57P01, or the connection gone), and so does, after a restart, the first
/// statement sent on an idle pooled connection the restart killed (Npgsql then clears the pool): a handler that failed
/// there was retried, a second run of the job by a live worker. The keyed chaos test counted it as a broken exactly-once
/// promise; the other tests see a second span or start row and an attempt more (RestartDuringRunTests). The write is
/// retried until the server is back instead, while the run's token is not cancelled (a lost lease still ends the run).
/// Every statement given here must be idempotent: one whose commit came before the failure reached the handler is sent again.
/// </summary>
internal static class RecordWrite
{
    private const int MaxAttempts = 100;

    /// <summary>Runs <paramref name="sql"/> with the parameters <paramref name="bind"/> adds, retried while the server is away.</summary>
    public static async Task ExecuteAsync(NpgsqlDataSource source, string sql, Action<NpgsqlParameterCollection> bind, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var command = source.CreateCommand(sql);
                bind(command.Parameters);
                await command.ExecuteNonQueryAsync(ct);
                return;
            }
            catch (NpgsqlException ex) when (ServerGone(ex) && !ct.IsCancellationRequested && attempt < MaxAttempts)
            {
                await Task.Delay(100, ct);
            }
        }
    }

    /// <summary>
    /// The server or the connection went away: a lost or refused connection (no SQLSTATE), or classes 08 (connection
    /// exception), 53 (insufficient resources: too many connections) and 57 (operator intervention: 57P01 shut down, 57P03
    /// starting up). A statement the server rejected (a key violation: a genuine second run) fails the handler at once.
    /// </summary>
    private static bool ServerGone(NpgsqlException ex) => ex is not PostgresException pg
        || pg.SqlState.StartsWith("08", StringComparison.Ordinal)
        || pg.SqlState.StartsWith("53", StringComparison.Ordinal)
        || pg.SqlState.StartsWith("57", StringComparison.Ordinal);

    /// <summary>Adds <paramref name="value"/> as the next positional parameter.</summary>
    public static NpgsqlParameterCollection With<T>(this NpgsqlParameterCollection parameters, T value)
    {
        parameters.Add(new NpgsqlParameter<T> { TypedValue = value });
        return parameters;
    }
}
