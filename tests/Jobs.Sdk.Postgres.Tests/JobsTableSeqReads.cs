using Npgsql;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// The plan tests' reading of the jobs table's sequential scans (<c>pg_stat_user_tables</c>): how many, and the rows they
/// read, by every call run so far on the measured data source's sessions.
/// </summary>
/// <remarks>
/// A PostgreSQL 15 session sends its table statistics when it goes idle, at most once a second (else 10 s later), so a
/// reading taken right after the calls could miss theirs and pass without having measured them. Each reading first makes
/// every pooled session of the measured data source send its statistics (<c>pg_stat_force_next_flush</c>: they go out as
/// the session goes idle after it, before its answer), then waits until the statistics count the inserts of the other
/// sessions (the rows a test grew the table by).
/// </remarks>
internal static class JobsTableSeqReads
{
    /// <summary>The most pooled sessions a measured data source may have (each is opened at every reading).</summary>
    private const int MaxSessions = 32;

    /// <summary>
    /// The sequential scans of <paramref name="schema"/>'s jobs table and the rows they read, with every call that ran on
    /// <paramref name="measured"/>'s sessions counted, once the statistics count <paramref name="inserted"/> inserts.
    /// </summary>
    public static async Task<(long Scans, long Rows)> ReadAsync(NpgsqlDataSource ds, string schema, long inserted, NpgsqlDataSource measured)
    {
        await SendStatisticsAsync(measured);
        var (ins, scans, rows) = (0L, 0L, 0L);
        await TestExtensions.EventuallyAsync(async () =>
        {
            await using var read = ds.CreateCommand(
                $"SELECT n_tup_ins, seq_scan, seq_tup_read FROM pg_stat_user_tables WHERE schemaname = '{schema}' AND relname = 'jobs'");
            await using var reader = await read.ExecuteReaderAsync();
            Assert.True(await reader.ReadAsync());
            (ins, scans, rows) = (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2));
            return ins >= inserted;
        }, 60, () => $"the statistics of the jobs table count {inserted:N0} inserts (so far {ins:N0})");
        return (scans, rows);
    }

    /// <summary>
    /// Every pooled session of <paramref name="measured"/> sends its statistics now: all of them are taken at once (so each
    /// one is), and each runs <c>pg_stat_force_next_flush()</c>, whose answer comes once the session has sent them.
    /// </summary>
    private static async Task SendStatisticsAsync(NpgsqlDataSource measured)
    {
        var sessions = new NpgsqlConnectionStringBuilder(measured.ConnectionString).MaxPoolSize;
        Assert.True(sessions <= MaxSessions,
            $"The measured data source may pool {sessions} sessions: each reading opens them all to send their statistics; give it at most {MaxSessions}");
        var connections = new List<NpgsqlConnection>(sessions);
        try
        {
            for (var i = 0; i < sessions; i++)
            {
                connections.Add(await measured.OpenConnectionAsync());
            }

            foreach (var connection in connections)
            {
                await using var flush = new NpgsqlCommand("SELECT pg_stat_force_next_flush()", connection);
                await flush.ExecuteNonQueryAsync();
            }
        }
        finally
        {
            foreach (var connection in connections)
            {
                await connection.DisposeAsync();
            }
        }
    }
}
