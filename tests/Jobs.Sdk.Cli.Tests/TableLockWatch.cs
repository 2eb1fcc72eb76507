using Npgsql;

namespace Jobs.Sdk.Cli.Tests;

/// <summary>
/// Sees, from the database, each transaction of another process that reads a schema's jobs table (issue 15: an operator's
/// command over a large table must read it in bounded batches, each its own short transaction, not hold one snapshot).
/// </summary>
internal static class TableLockWatch
{
    /// <summary>
    /// Runs <paramref name="run"/> while the caller holds the jobs table locked (ACCESS EXCLUSIVE, which every read of the
    /// table waits for) and returns the text of each statement of another session that waited for it. The lock goes
    /// from one of two sessions to the other: the next holder queues its request before the current one commits, so the
    /// waiting statement runs alone and its transaction must end (releasing its lock) before the next holder gets the
    /// table, and any later statement queues behind that holder. A statement runs only when seen; a
    /// transaction is seen only at its first statement on the table (a later one already holds its lock): each statement
    /// seen is a transaction of its own.
    /// </summary>
    public static async Task<(T Result, List<(int Pid, string Query)> Statements)> StatementsOnJobsAsync<T>(NpgsqlDataSource dataSource, string schema, Func<Task<T>> run)
    {
        var table = $"\"{schema}\".jobs";
        await using var a = await dataSource.OpenConnectionAsync();
        await using var b = await dataSource.OpenConnectionAsync();
        var holders = new[] { a.ProcessID, b.ProcessID };
        var statements = new List<(int Pid, string Query)>();
        var holder = a;
        var tx = await holder.BeginTransactionAsync();
        await ExecuteAsync(holder, $"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE");
        var task = run();
        while (true)
        {
            (int Pid, string Query)? waiting = null;
            await UntilAsync(async () =>
            {
                waiting = await WaitingAsync(dataSource, table, holders);
                return waiting is not null || task.IsCompleted;
            }, 60, "the tool waits for the jobs table or exits");
            if (waiting is null)
            {
                break;
            }

            statements.Add(waiting.Value);
            var next = holder == a ? b : a;
            var nextTx = await next.BeginTransactionAsync();
            var locking = ExecuteAsync(next, $"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE");
            await UntilAsync(async () => await WaitsAsync(dataSource, table, next.ProcessID), 60, "the next holder queues for the lock");
            await tx.CommitAsync();
            await tx.DisposeAsync();
            await locking;
            (holder, tx) = (next, nextTx);
        }

        await tx.CommitAsync();
        await tx.DisposeAsync();
        return (await task, statements);
    }

    /// <summary>The session, other than <paramref name="holders"/>, that waits for a lock on <paramref name="table"/>, and its statement.</summary>
    private static async Task<(int Pid, string Query)?> WaitingAsync(NpgsqlDataSource dataSource, string table, int[] holders)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT a.pid, a.query FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
            WHERE l.relation = $1::regclass AND NOT l.granted AND l.pid <> ALL($2) LIMIT 1
            """);
        command.Parameters.AddWithValue(table);
        command.Parameters.AddWithValue(holders);
        await using var reader = await command.ExecuteReaderAsync();
        return await reader.ReadAsync() ? (reader.GetInt32(0), reader.GetString(1)) : null;
    }

    private static async Task<bool> WaitsAsync(NpgsqlDataSource dataSource, string table, int pid)
    {
        await using var command = dataSource.CreateCommand(
            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE relation = $1::regclass AND NOT granted AND pid = $2)");
        command.Parameters.AddWithValue(table);
        command.Parameters.AddWithValue(pid);
        return (bool)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>Polls a condition on the database (a lock queue is visible only there) until it holds, for at most <paramref name="seconds"/>.</summary>
    private static async Task UntilAsync(Func<Task<bool>> condition, int seconds, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Not within {seconds} s: {what}.");
            }

            await Task.Delay(10);
        }
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
