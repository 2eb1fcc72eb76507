using Npgsql;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>Row locks held from test connections, to build the interleavings of the lock-order tests without sleeps.</summary>
internal static class JobRowLocks
{
    /// <summary>The two jobs of a lock-order test: <c>Low</c> sorts before <c>High</c>.</summary>
    public static readonly (Guid Low, Guid High) Ids = (new Guid("00000000-0000-7000-8000-000000000001"), new Guid("00000000-0000-7000-8000-000000000002"));

    /// <summary>
    /// Inserts the two jobs of <see cref="Ids"/> into queue <c>q</c> of <paramref name="schema"/>, the larger id first in the
    /// table (so a sequential scan reads it first), with the extra <paramref name="columns"/> set to <paramref name="values"/>
    /// (SQL), then analyzes the table.
    /// </summary>
    public static async Task InsertHighFirstAsync(NpgsqlDataSource direct, string schema, string columns, string values)
    {
        foreach (var id in new[] { Ids.High, Ids.Low })
        {
            await direct.ExecAsync($"""
                INSERT INTO "{schema}".jobs (id, queue_name, name, payload, {columns})
                VALUES ('{id}', 'q', 'job', '{"{}"}', {values})
                """);
        }

        await direct.ExecAsync($"ANALYZE \"{schema}\".jobs");
    }

    /// <summary>
    /// Inserts into queue <c>q</c> of <paramref name="schema"/> the cancelled holder of unique key <c>a</c> (<see cref="Ids"/>'s
    /// <c>Low</c>, its hold over) and the failed job that released <c>a</c> (<c>High</c>), the holder first in the table unless
    /// <paramref name="releasedFirst"/>, and analyzes the table; returns an admin and a driver of that queue whose first call (the schema check) has
    /// run, so that it does not wait behind a row a test holds.
    /// </summary>
    public static async Task<(JobAdmin Admin, PostgresJobDriver Driver)> KeyHolderAndReleasedAsync(NpgsqlDataSource direct, string schema,
        bool releasedFirst)
    {
        var (holder, released) = Ids;
        var rows = new[]
        {
            $"('{holder}', 'q', 'job', '{{}}', 5, 1, now() - interval '1 hour', 'a', NULL)",
            $"('{released}', 'q', 'job', '{{}}', 4, 1, now() - interval '1 hour', NULL, 'a')",
        };
        await direct.ExecAsync($"""
            INSERT INTO "{schema}".jobs (id, queue_name, name, payload, state, attempts, finished_at, unique_key, released_unique_key)
            VALUES {(releasedFirst ? rows[1] + ", " + rows[0] : rows[0] + ", " + rows[1])}
            """);
        await direct.ExecAsync($"ANALYZE \"{schema}\".jobs");
        var admin = PostgresJobAdmin.Create(direct, new PostgresJobDriverOptions { Schema = schema });
        var driver = new PostgresJobDriver(direct, new PostgresJobDriverOptions { Schema = schema, QueueName = "q" });
        await driver.CountCleanupAsync(new CleanupOptions(), CancellationToken.None);
        return (admin, driver);
    }

    /// <summary>The backends waiting for a lock while they run a statement on <paramref name="schema"/>.</summary>
    public static string Waiting(string schema) =>
        $"SELECT count(DISTINCT a.pid) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE NOT l.granted AND a.query LIKE '%{schema}%'";

    /// <summary>Locks the rows of <paramref name="ids"/> in id order, as a worker's outcome batch and the operator's cancel and delete do.</summary>
    public static async Task LockAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string schema, Guid[] ids)
    {
        await using var command = new NpgsqlCommand($"SELECT id FROM \"{schema}\".jobs WHERE id = ANY($1) ORDER BY id FOR UPDATE", connection, transaction);
        command.Parameters.Add(new NpgsqlParameter { Value = ids });
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
        }
    }

    /// <summary>
    /// The interleaving of the lock-order tests on rows <paramref name="low"/> &lt; <paramref name="high"/>: a third
    /// transaction holds <paramref name="high"/>; <paramref name="start"/> starts the statement under test, which waits
    /// there; <paramref name="other"/> (another operator, a worker's outcome batch) then locks both rows in id order and
    /// waits too; the holder commits. Returns the statement's result and error, and the other side's error (each null when
    /// it went through): a statement that locks out of id order makes PostgreSQL abort one of the two (40P01).
    /// </summary>
    public static async Task<(int Changed, Exception? Error, Exception? OtherError)> RaceAsync(
        NpgsqlDataSource direct, string schema, Guid low, Guid high, Func<Task<int>> start, string statement, string other)
    {
        await using var holderConnection = await direct.OpenConnectionAsync();
        await using var holder = await holderConnection.BeginTransactionAsync();
        await LockAsync(holderConnection, holder, schema, [high]);
        var run = start();
        await TestExtensions.EventuallyAsync(async () => run.IsCompleted || await direct.ScalarAsync(Waiting(schema)) >= 1,
            what: $"the {statement} waits for the held row");

        await using var otherConnection = await direct.OpenConnectionAsync();
        await using var otherTransaction = await otherConnection.BeginTransactionAsync();
        var locks = LockAsync(otherConnection, otherTransaction, schema, [low, high]);
        await TestExtensions.EventuallyAsync(async () => run.IsCompleted || locks.IsCompleted || await direct.ScalarAsync(Waiting(schema)) >= 2,
            what: $"{other} waits too");
        await holder.CommitAsync();

        // Whichever goes first, neither should be aborted: the other waits for it.
        var error = await Record.ExceptionAsync(() => run.WaitAsync(TimeSpan.FromMinutes(1)));
        Exception? otherError = null;
        if (error is null)
        {
            otherError = await Record.ExceptionAsync(() => locks.WaitAsync(TimeSpan.FromMinutes(1)));
            await otherTransaction.CommitAsync();
        }
        else
        {
            // The other side's statement may still be reading its rows (it got them when this one was aborted): it ends
            // before its connection is used again. Rolled back while it read, a connection used from two tasks at once
            // hung (no lock wait PostgreSQL could see: the test never ended).
            await Record.ExceptionAsync(() => locks.WaitAsync(TimeSpan.FromMinutes(1)));
            await otherTransaction.RollbackAsync();
        }

        return (error is null ? await run : 0, error, otherError);
    }
}
