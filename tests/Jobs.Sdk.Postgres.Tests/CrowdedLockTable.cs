using Npgsql;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// Sessions that fill a server's shared lock table (<c>max_locks_per_transaction</c> × (<c>max_connections</c> +
/// background processes) entries and some slack, 6,400 and more on a default server, shared by every session) but for
/// 2,000 to 3,000 entries: a busy server, or a batch of 100,000 keys on a default one, so that a batch larger than what is
/// free stays small. Use on a server of its own (<see cref="LocalPostgresCluster"/>); dispose to free the entries.
/// </summary>
public sealed class CrowdedLockTable : IAsyncDisposable
{
    /// <summary>Advisory locks a crowding session takes per statement.</summary>
    public const int Chunk = 1_000;

    private readonly NpgsqlDataSource _crowd;
    private readonly List<NpgsqlConnection> _holders = [];

    private CrowdedLockTable(NpgsqlDataSource crowd) => _crowd = crowd;

    /// <summary>Fills the lock table of the server at <paramref name="connectionString"/> but for two or three <see cref="Chunk"/>s.</summary>
    public static async Task<CrowdedLockTable> FillAsync(string connectionString)
    {
        var table = new CrowdedLockTable(PostgresJobsBuilderExtensions.CreateDataSource(connectionString));
        try
        {
            for (var chunk = 0L; ; chunk++)
            {
                // Each chunk in a transaction of its own, kept open: the one that finds the table full ends (its locks freed).
                var connection = await table._crowd.OpenConnectionAsync();
                await using var take = new NpgsqlCommand(
                    $"BEGIN; SELECT count(pg_advisory_xact_lock(g)) FROM generate_series({chunk * Chunk + 1}, {(chunk + 1) * Chunk}) g", connection);
                try
                {
                    await take.ExecuteNonQueryAsync();
                    table._holders.Add(connection);
                }
                catch (PostgresException ex) when (ex.SqlState == "53200")
                {
                    await connection.DisposeAsync();
                    break;
                }
            }

            foreach (var freed in table._holders[^2..])
            {
                await freed.DisposeAsync(); // its transaction rolls back: two more chunks free
            }

            table._holders.RemoveRange(table._holders.Count - 2, 2);
            return table;
        }
        catch
        {
            await table.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var connection in _holders)
        {
            await connection.DisposeAsync();
        }

        await _crowd.DisposeAsync();
    }
}
