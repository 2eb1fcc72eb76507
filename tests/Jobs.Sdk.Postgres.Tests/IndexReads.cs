using Npgsql;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// The index entries read from each index of a schema's jobs table (<c>pg_stat_user_indexes.idx_tup_read</c>), as the
/// statistics report them (a session's once it sent them: <c>SELECT pg_stat_force_next_flush()</c> on it first).
/// </summary>
internal static class IndexReads
{
    /// <summary>The index entries read so far from each index of <paramref name="schema"/>'s jobs table.</summary>
    public static async Task<Dictionary<string, long>> ReadAsync(NpgsqlDataSource ds, string schema)
    {
        await using var command = ds.CreateCommand(
            $"SELECT indexrelname, idx_tup_read FROM pg_stat_user_indexes WHERE schemaname = '{schema}' AND relname = 'jobs'");
        await using var reader = await command.ExecuteReaderAsync();
        var reads = new Dictionary<string, long>(StringComparer.Ordinal);
        while (await reader.ReadAsync())
        {
            reads[reader.GetString(0)] = reader.GetInt64(1);
        }

        return reads;
    }

    /// <summary>The entries read from each index between two readings.</summary>
    public static Dictionary<string, long> Difference(Dictionary<string, long> before, Dictionary<string, long> after)
        => after.ToDictionary(a => a.Key, a => a.Value - before.GetValueOrDefault(a.Key), StringComparer.Ordinal);

    /// <summary>The indexes read, most first: "jobs_runnable_idx 100,600, jobs_pkey 300".</summary>
    public static string Describe(Dictionary<string, long> read)
        => string.Join(", ", read.Where(r => r.Value > 0).OrderByDescending(r => r.Value).Select(r => $"{r.Key} {r.Value:N0}"));
}
