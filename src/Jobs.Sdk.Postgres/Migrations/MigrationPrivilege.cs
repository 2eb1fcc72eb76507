using System.Text;
using Npgsql;
using NpgsqlTypes;

namespace Jobs.Sdk.Postgres;

/// <summary>
/// A migration the connecting role may not apply (42501): PostgreSQL's message ("must be owner of table jobs") named neither
/// the migration nor the role that may, and the host's start failed with it as if the schema were broken. This says which
/// role tried which migrations, which role owns the schema's tables, and the two ways on: migrate as that role, or run the
/// processes of a role without those rights with <c>MigrateOnStartup = false</c>.
/// </summary>
internal static class MigrationPrivilege
{
    /// <summary>
    /// Ends the migrating session's failed transaction, reads the roles involved, and returns the exception to throw
    /// (<see cref="PostgresMigrationException"/>, inner <paramref name="refused"/>); <paramref name="refused"/> itself when
    /// the session cannot read them (its connection broke).
    /// </summary>
    public static async Task<Exception> DescribeAsync(NpgsqlConnection connection, string schema, string quoted, IReadOnlyList<PostgresMigration> migrations,
        PostgresException refused)
    {
        string role;
        string? owners;
        try
        {
            var rollback = new NpgsqlCommand("ROLLBACK", connection);
            await using (rollback.ConfigureAwait(false))
            {
                await rollback.ExecuteNonQueryAsync(CancellationToken.None).ConfigureAwait(false);
            }

            var command = new NpgsqlCommand(MigrationSql.SchemaOwners, connection);
            await using var commandDisposal = command.ConfigureAwait(false);
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = quoted, NpgsqlDbType = NpgsqlDbType.Text });
            var reader = await command.ExecuteReaderAsync(CancellationToken.None).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                await reader.ReadAsync(CancellationToken.None).ConfigureAwait(false);
                role = reader.GetString(0);
                owners = reader.IsDBNull(1) ? null : reader.GetString(1);
            }
        }
        catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException)
        {
            return refused;
        }

        var sb = new StringBuilder();
        sb.Append("Role '").Append(role).Append("' may not apply job queue migration ")
            .Append(migrations.Count == 0 ? "of the migrations table" : string.Join(", ", migrations.Select(m => m.Name)))
            .Append(" to schema '").Append(schema).Append("' (").Append(refused.SqlState).Append(": ").Append(refused.MessageText).Append("); nothing of it was applied. ")
            .Append("Migrations create and alter the schema's tables, which only their owner may do");
        if (owners is not null)
        {
            sb.Append(" (here: role '").Append(owners).Append("')");
        }

        sb.Append(", and a new schema takes CREATE on the database. Apply them as ").Append(owners is null ? "a role that may" : "that role")
            .Append(" (`jobs migrate` with its connection string, or give your DBA the SQL of `jobs migrate --script`), then start this process again; ")
            .Append("processes whose role may only read and write the jobs take MigrateOnStartup = false.");
        return new PostgresMigrationException(sb.ToString(), refused);
    }
}
