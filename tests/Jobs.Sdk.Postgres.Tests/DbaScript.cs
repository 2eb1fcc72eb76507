using Npgsql;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// Runs <see cref="PostgresJobMigrations.GetScript"/>'s output as <c>psql -f</c> does: its transactional parts
/// (<c>BEGIN;</c> to <c>COMMIT;</c>) as one command each, and the statements of a step outside a transaction
/// (<c>-- jobs:no-transaction</c>, between a <c>COMMIT;</c> and the next <c>BEGIN;</c>) one by one: sent as one command,
/// the script's <c>CREATE INDEX CONCURRENTLY</c> ran in an implicit transaction and failed (25001).
/// </summary>
internal static class DbaScript
{
    public static async Task RunAsync(NpgsqlDataSource dataSource, string script)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        var current = new System.Text.StringBuilder();
        var inTransaction = false;
        foreach (var line in script.Split('\n'))
        {
            var trimmed = line.Trim();
            if (trimmed == "BEGIN;")
            {
                inTransaction = true;
            }

            current.AppendLine(line);
            if (inTransaction ? trimmed == "COMMIT;" : trimmed.EndsWith(';'))
            {
                await ExecuteAsync(connection, current.ToString());
                current.Clear();
                inTransaction = false;
            }
        }

        if (current.ToString().Trim().Length > 0)
        {
            await ExecuteAsync(connection, current.ToString());
        }
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
