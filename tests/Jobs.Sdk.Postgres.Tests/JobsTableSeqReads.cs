using Npgsql;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// The plan tests' reading of the jobs table's sequential scans (<c>pg_stat_user_tables</c>): how many, and the rows they
/// read, once the statistics count enough inserts (sessions report theirs when they go idle).
/// </summary>
internal static class JobsTableSeqReads
{
    /// <summary>
    /// The sequential scans of <paramref name="schema"/>'s jobs table and the rows they read, once its statistics count
    /// <paramref name="inserted"/> inserts.
    /// </summary>
    public static async Task<(long Scans, long Rows)> ReadAsync(NpgsqlDataSource ds, string schema, long inserted)
    {
        var (ins, scans, rows) = (0L, 0L, 0L);
        await TestExtensions.EventuallyAsync(async () =>
        {
            await using var read = ds.CreateCommand(
                $"SELECT n_tup_ins, seq_scan, seq_tup_read FROM pg_stat_user_tables WHERE schemaname = '{schema}' AND relname = 'jobs'");
            await using var reader = await read.ExecuteReaderAsync();
            Assert.True(await reader.ReadAsync());
            (ins, scans, rows) = (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2));
            return ins >= inserted;
        }, seconds: 60, what: $"the statistics of the jobs table count {inserted:N0} inserts (so far {ins:N0})");
        return (scans, rows);
    }
}
