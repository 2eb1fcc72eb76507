using Npgsql;

namespace Jobs.Sdk.Benchmarks.EndToEnd;

/// <summary>
/// Pre-fills the benchmark queue with rows that a scaling driver must not pay for: finished history
/// (<c>--retained-history</c>) and jobs delayed by a day at a higher priority than the measured ones (<c>--delayed</c>).
/// Both are written with one <c>INSERT … SELECT generate_series</c> each (a million rows in seconds), into the driver's
/// own table, then <c>VACUUM ANALYZE</c>d so that plans are those of a settled table.
/// </summary>
internal static class Seeding
{
    public static async Task FillAsync(NpgsqlDataSource ds, string schema, string queue, long history, long delayed)
    {
        if (history > 0)
        {
            Log($"inserting {history:N0} finished history rows (half completed, half failed)");
            // Mirrors the driver's table (migration 0001): finished rows of the benchmark queue.
            await ExecAsync(ds, $"""
                INSERT INTO {schema}.jobs (id, queue_name, name, payload, state, attempts, max_attempts, run_at, created_at, started_at, finished_at, updated_at, last_error)
                SELECT gen_random_uuid(), '{queue}', 'bench', jsonb_build_object('s', -1), CASE WHEN g % 2 = 0 THEN 3 ELSE 4 END, 1, 1,
                       now() - interval '1 day', now() - interval '1 day', now() - interval '1 day', now() - interval '1 day', now() - interval '1 day',
                       CASE WHEN g % 2 = 1 THEN 'bench history' END
                FROM generate_series(1, {history}) g
                """).ConfigureAwait(false);
        }

        if (delayed > 0)
        {
            // Priority 3 (Higher) > the measured jobs' 2 (Normal): in claim order they come first, and none is due.
            Log($"inserting {delayed:N0} jobs delayed by a day at priority Higher");
            await ExecAsync(ds, $"""
                INSERT INTO {schema}.jobs (id, queue_name, name, payload, priority, run_at, max_attempts)
                SELECT gen_random_uuid(), '{queue}', 'bench', jsonb_build_object('s', -1), 3, now() + interval '1 day' + g * interval '1 ms', 4
                FROM generate_series(1, {delayed}) g
                """).ConfigureAwait(false);
        }

        if (history > 0 || delayed > 0)
        {
            await ExecAsync(ds, $"VACUUM ANALYZE {schema}.jobs").ConfigureAwait(false);
        }
    }

    private static async Task ExecAsync(NpgsqlDataSource ds, string sql)
    {
        await using var cmd = ds.CreateCommand(sql);
        cmd.CommandTimeout = 0;
        await cmd.ExecuteNonQueryAsync().ConfigureAwait(false);
    }

    private static void Log(string message) => Console.Error.WriteLine($"[bench] {message}");
}
