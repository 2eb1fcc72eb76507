using System.Text;
using Npgsql;
using NpgsqlTypes;

namespace Jobs.Sdk.Postgres;

/// <summary>
/// The PostgreSQL driver's schema migrations: versioned, named, recorded in <c>{schema}.schema_migrations</c>, applied in
/// one transaction under an advisory lock (so many processes starting at once apply them once).
/// </summary>
public static class PostgresJobMigrations
{
    /// <summary>The migrations for <paramref name="schema"/>, in order.</summary>
    public static IReadOnlyList<PostgresMigration> GetMigrations(string schema = "jobs")
    {
        var quoted = PostgresIdentifier.Quote(schema);
        var list = new PostgresMigration[MigrationScripts.All.Length];
        for (var i = 0; i < list.Length; i++)
        {
            var (name, sql) = MigrationScripts.All[i];
            list[i] = new PostgresMigration(i + 1, name, Sub(sql, quoted));
        }

        return list;
    }

    /// <summary>
    /// A SQL script a DBA can run (with <c>psql -1 -f</c> or any client) to bring <paramref name="schema"/> up to date.
    /// It is idempotent: migrations already recorded are skipped, and it takes the same advisory lock as the driver.
    /// </summary>
    public static string GetScript(string schema = "jobs")
    {
        var quoted = PostgresIdentifier.Quote(schema);
        var sb = new StringBuilder();
        sb.Append("-- Jobs.Sdk.Postgres schema for ").Append(quoted).Append(" (").Append(MigrationScripts.All.Length).AppendLine(" migrations).");
        sb.AppendLine("BEGIN;");
        sb.Append("SELECT pg_advisory_xact_lock(").Append(LockKey(schema)).AppendLine(");");
        sb.AppendLine(Sub(MigrationSql.CreateSchemaAndTable, quoted));
        foreach (var migration in GetMigrations(schema))
        {
            sb.Append("-- ").Append(migration.Version).Append(": ").AppendLine(migration.Name);
            sb.AppendLine("DO $jobs_do$");
            sb.AppendLine("BEGIN");
            sb.Append("  IF NOT EXISTS (SELECT 1 FROM ").Append(quoted).Append(".schema_migrations WHERE version = ").Append(migration.Version).AppendLine(") THEN");
            sb.Append("    EXECUTE $jobs_sql$").AppendLine();
            sb.AppendLine(migration.Sql);
            sb.AppendLine("    $jobs_sql$;");
            sb.Append("    INSERT INTO ").Append(quoted).Append(".schema_migrations (version, name) VALUES (")
                .Append(migration.Version).Append(", '").Append(migration.Name).AppendLine("');");
            sb.AppendLine("  END IF;");
            sb.AppendLine("END");
            sb.AppendLine("$jobs_do$;");
        }

        sb.AppendLine("COMMIT;");
        return sb.ToString();
    }

    /// <summary>
    /// Applies the pending migrations of <paramref name="schema"/> in one transaction. Returns the names applied (empty
    /// when the schema was up to date). Throws <see cref="PostgresMigrationException"/> when the database holds
    /// migrations this version does not know (or in another order).
    /// </summary>
    public static async Task<IReadOnlyList<string>> ApplyAsync(NpgsqlDataSource dataSource, string schema = "jobs", CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        var quoted = PostgresIdentifier.Quote(schema);
        var migrations = GetMigrations(schema);
        var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using (transaction.ConfigureAwait(false))
            {
                // Steps, in order: lock, migrations table, read what was applied, verify it, apply the rest, commit.
                await ExecuteAsync(connection, transaction, MigrationSql.Lock, cancellationToken,
                    new NpgsqlParameter<long> { TypedValue = LockKey(schema), NpgsqlDbType = NpgsqlDbType.Bigint }).ConfigureAwait(false);
                await ExecuteAsync(connection, transaction, Sub(MigrationSql.CreateSchemaAndTable, quoted), cancellationToken).ConfigureAwait(false);
                var applied = await ReadAppliedAsync(connection, transaction, quoted, cancellationToken).ConfigureAwait(false);
                var pending = Compare(schema, migrations, applied);
                var names = new List<string>(pending.Count);
                foreach (var migration in pending)
                {
                    await ExecuteAsync(connection, transaction, migration.Sql, cancellationToken).ConfigureAwait(false);
                    await ExecuteAsync(connection, transaction, Sub(MigrationSql.Record, quoted), cancellationToken,
                        new NpgsqlParameter<int> { TypedValue = migration.Version, NpgsqlDbType = NpgsqlDbType.Integer },
                        new NpgsqlParameter<string> { TypedValue = migration.Name, NpgsqlDbType = NpgsqlDbType.Text }).ConfigureAwait(false);
                    names.Add(migration.Name);
                }

                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                return names;
            }
        }
    }

    /// <summary>
    /// Lists the migrations <paramref name="schema"/> still needs, without changing anything (a dry run). Throws
    /// <see cref="PostgresMigrationException"/> when the database holds unknown migrations.
    /// </summary>
    public static async Task<IReadOnlyList<string>> GetPendingAsync(NpgsqlDataSource dataSource, string schema = "jobs", CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        var quoted = PostgresIdentifier.Quote(schema);
        var migrations = GetMigrations(schema);
        var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            bool exists;
            await using (var check = new NpgsqlCommand(MigrationSql.TableExists, connection))
            {
                check.Parameters.Add(new NpgsqlParameter<string> { TypedValue = schema, NpgsqlDbType = NpgsqlDbType.Text });
                exists = (bool)(await check.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
            }

            var applied = exists
                ? await ReadAppliedAsync(connection, null, quoted, cancellationToken).ConfigureAwait(false)
                : [];
            return Compare(schema, migrations, applied).Select(m => m.Name).ToArray();
        }
    }

    internal static long LockKey(string schema)
    {
        // FNV-1a 64: stable across processes and versions (string.GetHashCode is randomized per process).
        var hash = 14695981039346656037UL;
        foreach (var b in Encoding.UTF8.GetBytes("Jobs.Sdk.Postgres.migrations:" + schema))
        {
            hash ^= b;
            hash *= 1099511628211UL;
        }

        return unchecked((long)hash);
    }

    private static string Sub(string sql, string quoted) => sql.Replace("{s}", quoted, StringComparison.Ordinal);

    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql, CancellationToken cancellationToken,
        params NpgsqlParameter[] parameters)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        foreach (var parameter in parameters)
        {
            command.Parameters.Add(parameter);
        }

        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task<List<(int Version, string Name)>> ReadAppliedAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction,
        string quoted, CancellationToken cancellationToken)
    {
        var applied = new List<(int, string)>();
        await using var command = new NpgsqlCommand(Sub(MigrationSql.Applied, quoted), connection, transaction);
        var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                applied.Add((reader.GetInt32(0), reader.GetString(1)));
            }
        }

        return applied;
    }

    private static List<PostgresMigration> Compare(string schema, IReadOnlyList<PostgresMigration> known, List<(int Version, string Name)> applied)
    {
        var consistent = applied.Count <= known.Count;
        for (var i = 0; consistent && i < applied.Count; i++)
        {
            consistent = applied[i].Version == known[i].Version && applied[i].Name == known[i].Name;
        }

        if (!consistent)
        {
            var sb = new StringBuilder();
            sb.Append("The migrations recorded in schema '").Append(schema)
                .Append("' are not a prefix of the migrations this version of Jobs.Sdk.Postgres knows. ")
                .Append("Was the database migrated by a newer version, or edited by hand? Expected: [")
                .AppendJoin(", ", known.Select(m => $"{m.Version}:{m.Name}"))
                .Append("]; applied: [")
                .AppendJoin(", ", applied.Select(m => $"{m.Version}:{m.Name}"))
                .Append("].");
            throw new PostgresMigrationException(sb.ToString(), []);
        }

        return known.Skip(applied.Count).ToList();
    }
}

/// <summary>The driver's schema is not usable: unknown migrations were found, or a dry run found pending ones.</summary>
public sealed class PostgresMigrationException : JobsException
{
    /// <summary>Creates the exception.</summary>
    public PostgresMigrationException() : this("The job queue schema is not up to date.", []) { }

    /// <summary>Creates the exception.</summary>
    public PostgresMigrationException(string message) : this(message, []) { }

    /// <summary>Creates the exception.</summary>
    public PostgresMigrationException(string message, Exception? innerException) : base(message, innerException) => PendingMigrations = [];

    /// <summary>Creates the exception with the pending migrations.</summary>
    public PostgresMigrationException(string message, IReadOnlyList<string> pendingMigrations) : base(message) => PendingMigrations = pendingMigrations;

    /// <summary>Migrations a dry run found pending (empty for other failures).</summary>
    public IReadOnlyList<string> PendingMigrations { get; }
}
