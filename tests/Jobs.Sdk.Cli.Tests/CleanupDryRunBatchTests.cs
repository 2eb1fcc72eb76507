using Jobs.Sdk.Postgres.Tests;
using Npgsql;

namespace Jobs.Sdk.Cli.Tests;

/// <summary>
/// Issue 15: <c>jobs cleanup --dry-run</c> on a large history counts in bounded batches, each its own short transaction,
/// as the cleanup deletes, so it never holds one snapshot over every row it counts (a snapshot held open slows every
/// concurrent claim). Observed from the database, not timed: the test holds the jobs table locked and hands the lock over
/// between two of its own sessions, so the tool's every statement on the table waits and is seen, and each one's
/// transaction must end before the next can start.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class CleanupDryRunBatchTests(PostgresFixture fixture) : IAsyncLifetime
{
    private const int BatchSize = 5_000; // CleanupSql.BatchSize
    private const int Old = 12_000;      // failed 2 to 3 days ago: three batches (5,000, 5,000 and 2,000)
    private readonly CliSchema _db = new(fixture);

    public async Task InitializeAsync() => await _db.MigrateAsync();

    public Task DisposeAsync() => _db.DisposeAsync().AsTask();

    [Fact]
    public async Task A_dry_run_of_a_large_cleanup_counts_one_batch_per_transaction_and_counts_what_the_cleanup_then_deletes()
    {
        // Queue bulk: 12,000 failed jobs older than a day (three to a timestamp, so batch edges split groups of equal
        // updated_at) and 3,000 failed just now; queue other: 1,000 old failed jobs. --failed 1d --queue bulk: 12,000.
        await ExecuteAsync($"""
            INSERT INTO "{_db.Name}".jobs (id, queue_name, name, payload, state, attempts, finished_at, updated_at)
            SELECT gen_random_uuid(), 'bulk', 'plan', jsonb_build_object(), 4, 1, t, t
            FROM generate_series(1, {Old}) g, LATERAL (SELECT now() - interval '2 days' - (g / 3) * interval '1 second' AS t) a;
            INSERT INTO "{_db.Name}".jobs (id, queue_name, name, payload, state, attempts, finished_at, updated_at)
            SELECT gen_random_uuid(), 'bulk', 'plan', jsonb_build_object(), 4, 1, now(), now() FROM generate_series(1, 3000);
            INSERT INTO "{_db.Name}".jobs (id, queue_name, name, payload, state, attempts, finished_at, updated_at)
            SELECT gen_random_uuid(), 'other', 'plan', jsonb_build_object(), 4, 1, now() - interval '3 days', now() - interval '3 days'
            FROM generate_series(1, 1000);
            ANALYZE "{_db.Name}".jobs;
            """);

        var counts = await StatementsOnJobsAsync(() => _db.RunAsync(1, ["cleanup", "--failed", "1d", "--queue", "bulk", "--dry-run", "--json"]));
        Assert.True(counts.Result.ExitCode == 0, counts.Result.ToString());
        Assert.Equal(Old, counts.Result.Json.GetProperty("wouldDelete").GetInt64());
        // A statement seen is a transaction. The tool prepares a statement on each connection once (a transaction of its
        // own, which counts nothing): one less per connection and text is how many counted.
        var counting = counts.Statements.Where(s => s.Query.Contains("count(", StringComparison.Ordinal)).ToList();
        var executions = counting.Count - counting.Distinct().Count();
        // One transaction per batch of at most BatchSize rows: 12,000 rows take three.
        Assert.True(executions >= (Old + BatchSize - 1) / BatchSize,
            $"the dry run counted {Old} rows in {executions} transaction(s) on the jobs table " +
            $"(batches of {BatchSize} take {(Old + BatchSize - 1) / BatchSize}); it waited for the table {counting.Count} time(s) in:\n" +
            string.Join("\n---\n", counting.Distinct().Select(s => $"pid {s.Pid}: {s.Query}")));

        var real = await _db.RunAsync(1, ["cleanup", "--failed", "1d", "--queue", "bulk", "--json"]);
        Assert.True(real.ExitCode == 0, real.ToString());
        Assert.Equal(Old, real.Json.GetProperty("deleted").GetInt64());
        Assert.Equal(3000, await ScalarAsync($"SELECT count(*) FROM \"{_db.Name}\".jobs WHERE queue_name = 'bulk'"));
        Assert.Equal(1000, await ScalarAsync($"SELECT count(*) FROM \"{_db.Name}\".jobs WHERE queue_name = 'other'"));
    }

    /// <summary>
    /// Runs <paramref name="run"/> while this test holds the jobs table locked (ACCESS EXCLUSIVE, which every read of the
    /// table waits for) and returns the text of each statement of another session that waited for it. The lock goes
    /// from one of two sessions to the other: the next holder queues its request before the current one commits, so the
    /// waiting statement runs alone and its transaction must end (releasing its lock) before the next holder gets the
    /// table, and any later statement queues behind that holder. A statement runs only when seen; a
    /// transaction is seen only at its first statement on the table (a later one already holds its lock): each statement
    /// seen is a transaction of its own.
    /// </summary>
    private async Task<(T Result, List<(int Pid, string Query)> Statements)> StatementsOnJobsAsync<T>(Func<Task<T>> run)
    {
        var table = $"\"{_db.Name}\".jobs";
        await using var a = await _db.DataSource.OpenConnectionAsync();
        await using var b = await _db.DataSource.OpenConnectionAsync();
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
                waiting = await WaitingAsync(table, holders);
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
            await UntilAsync(async () => await WaitsAsync(table, next.ProcessID), 60, "the next holder queues for the lock");
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
    private async Task<(int Pid, string Query)?> WaitingAsync(string table, int[] holders)
    {
        await using var command = _db.DataSource.CreateCommand("""
            SELECT a.pid, a.query FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
            WHERE l.relation = $1::regclass AND NOT l.granted AND l.pid <> ALL($2) LIMIT 1
            """);
        command.Parameters.AddWithValue(table);
        command.Parameters.AddWithValue(holders);
        await using var reader = await command.ExecuteReaderAsync();
        return await reader.ReadAsync() ? (reader.GetInt32(0), reader.GetString(1)) : null;
    }

    private async Task<bool> WaitsAsync(string table, int pid)
    {
        await using var command = _db.DataSource.CreateCommand(
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

    private async Task ExecuteAsync(string sql)
    {
        await using var command = _db.DataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }

    private async Task<long> ScalarAsync(string sql)
    {
        await using var command = _db.DataSource.CreateCommand(sql);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
