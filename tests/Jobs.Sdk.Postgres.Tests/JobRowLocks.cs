using Npgsql;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>Row locks held from test connections, to build the interleavings of the lock-order tests without sleeps.</summary>
internal static class JobRowLocks
{
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
}
