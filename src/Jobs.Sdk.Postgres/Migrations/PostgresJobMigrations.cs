using System.Text;
using Npgsql;
using NpgsqlTypes;

namespace Jobs.Sdk.Postgres;

/// <summary>
/// The PostgreSQL driver's schema migrations: versioned, named, recorded in <c>{schema}.schema_migrations</c> with the
/// oldest code version each is compatible with, applied under an advisory lock (so many processes starting at once apply
/// them once), each in its own transaction unless it must run outside one (<c>CREATE INDEX CONCURRENTLY</c>).
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
            list[i] = MigrationMarkers.Build(i + 1, name, Sub(sql, quoted), MigrationScripts.All);
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
            var record = $"INSERT INTO {quoted}.schema_migrations (version, name, compatible_from) VALUES ({migration.Version}, '{migration.Name}', {migration.CompatibleFrom}) ON CONFLICT (version) DO NOTHING;";
            if (!migration.RunsInTransaction)
            {
                // Outside a transaction (CREATE INDEX CONCURRENTLY); its statements are idempotent.
                sb.AppendLine("COMMIT;");
                foreach (var statement in MigrationMarkers.Statements(migration.Sql))
                {
                    sb.Append(statement);
                }

                sb.AppendLine(record);
                sb.AppendLine("BEGIN;");
                sb.Append("SELECT pg_advisory_xact_lock(").Append(LockKey(schema)).AppendLine(");");
                continue;
            }

            sb.AppendLine("DO $jobs_do$");
            sb.AppendLine("BEGIN");
            sb.Append("  IF NOT EXISTS (SELECT 1 FROM ").Append(quoted).Append(".schema_migrations WHERE version = ").Append(migration.Version).AppendLine(") THEN");
            sb.Append("    EXECUTE $jobs_sql$").AppendLine();
            sb.AppendLine(migration.Sql);
            sb.AppendLine("    $jobs_sql$;");
            sb.Append("    ").AppendLine(record);
            sb.AppendLine("  END IF;");
            sb.AppendLine("END");
            sb.AppendLine("$jobs_do$;");
        }

        sb.AppendLine("COMMIT;");
        return sb.ToString();
    }

    /// <summary>
    /// Applies the pending migrations of <paramref name="schema"/>, each in its own transaction (or, for a step marked
    /// <see cref="PostgresMigration.RunsInTransaction"/> false, outside one) under a session advisory lock, with a
    /// <c>lock_timeout</c> on the DDL. The schema is verified first with one SELECT and no DDL: when it is current (or
    /// newer and compatible with this version), nothing else runs, so a role with DML rights only can call it. Returns
    /// the names applied (empty when the schema was up to date). Throws <see cref="PostgresSchemaIncompatibleException"/>
    /// when the database was migrated by a newer version this one is not compatible with, and
    /// <see cref="PostgresMigrationException"/> when the recorded migrations are not the ones this version knows.
    /// </summary>
    public static Task<IReadOnlyList<string>> ApplyAsync(NpgsqlDataSource dataSource, string schema = "jobs", CancellationToken cancellationToken = default)
        => ApplyAsync(dataSource, schema, GetMigrations(schema), DefaultLockTimeout, cancellationToken);

    /// <summary>How long a migration's DDL waits for a table lock before it fails (and is retried): 10 s.</summary>
    internal static readonly TimeSpan DefaultLockTimeout = TimeSpan.FromSeconds(10);

    internal static async Task<IReadOnlyList<string>> ApplyAsync(NpgsqlDataSource dataSource, string schema, IReadOnlyList<PostgresMigration> migrations,
        TimeSpan lockTimeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        var quoted = PostgresIdentifier.Quote(schema);
        var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            // Verify before any DDL: one SELECT. Current (or newer and compatible): done.
            var applied = await TryReadAppliedAsync(connection, quoted, cancellationToken).ConfigureAwait(false);
            if (applied is not null && Compare(schema, migrations, applied).Count == 0)
            {
                return [];
            }

            var key = new NpgsqlParameter<long> { TypedValue = LockKey(schema), NpgsqlDbType = NpgsqlDbType.Bigint };
            await ExecuteAsync(connection, null, MigrationSql.SessionLock, cancellationToken, key).ConfigureAwait(false);
            try
            {
                var timeout = ((long)lockTimeout.TotalMilliseconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
                await ExecuteAsync(connection, null, $"SET lock_timeout = {timeout}", cancellationToken).ConfigureAwait(false);
                await RunInTransactionAsync(connection, Sub(MigrationSql.CreateSchemaAndTable, quoted), null, quoted, cancellationToken).ConfigureAwait(false);
                applied = await TryReadAppliedAsync(connection, quoted, cancellationToken).ConfigureAwait(false) ?? [];
                var names = new List<string>();
                foreach (var migration in Compare(schema, migrations, applied))
                {
                    if (migration.RunsInTransaction)
                    {
                        await RunInTransactionAsync(connection, migration.Sql, migration, quoted, cancellationToken).ConfigureAwait(false);
                    }
                    else
                    {
                        foreach (var statement in MigrationMarkers.Statements(migration.Sql))
                        {
                            await ExecuteAsync(connection, null, statement, cancellationToken).ConfigureAwait(false);
                        }

                        await RecordAsync(connection, null, migration, quoted, cancellationToken).ConfigureAwait(false);
                    }

                    names.Add(migration.Name);
                }

                return names;
            }
            finally
            {
                await ExecuteAsync(connection, null, "RESET lock_timeout", CancellationToken.None).ConfigureAwait(false);
                await ExecuteAsync(connection, null, MigrationSql.SessionUnlock, CancellationToken.None,
                    new NpgsqlParameter<long> { TypedValue = LockKey(schema), NpgsqlDbType = NpgsqlDbType.Bigint }).ConfigureAwait(false);
            }
        }
    }

    private static async Task RunInTransactionAsync(NpgsqlConnection connection, string sql, PostgresMigration? record, string quoted,
        CancellationToken cancellationToken)
    {
        var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using (transaction.ConfigureAwait(false))
        {
            await ExecuteAsync(connection, transaction, sql, cancellationToken).ConfigureAwait(false);
            if (record is not null)
            {
                await RecordAsync(connection, transaction, record, quoted, cancellationToken).ConfigureAwait(false);
            }

            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private static Task RecordAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, PostgresMigration migration, string quoted,
        CancellationToken cancellationToken)
        => ExecuteAsync(connection, transaction, Sub(MigrationSql.Record, quoted), cancellationToken,
            new NpgsqlParameter<int> { TypedValue = migration.Version, NpgsqlDbType = NpgsqlDbType.Integer },
            new NpgsqlParameter<string> { TypedValue = migration.Name, NpgsqlDbType = NpgsqlDbType.Text },
            new NpgsqlParameter<int> { TypedValue = migration.CompatibleFrom, NpgsqlDbType = NpgsqlDbType.Integer });

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
            var applied = await TryReadAppliedAsync(connection, quoted, cancellationToken).ConfigureAwait(false) ?? [];
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

    /// <summary>The recorded migrations (version, name, compatible-from), or <see langword="null"/> when the table does not exist.</summary>
    private static async Task<List<AppliedMigration>?> TryReadAppliedAsync(NpgsqlConnection connection, string quoted, CancellationToken cancellationToken)
    {
        var applied = new List<AppliedMigration>();
        try
        {
            await using var command = new NpgsqlCommand(Sub(MigrationSql.Applied, quoted), connection);
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    applied.Add(new AppliedMigration(reader.GetInt32(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetInt32(2)));
                }
            }
        }
        catch (PostgresException ex) when (ex.SqlState is PostgresErrorCodes.UndefinedTable or PostgresErrorCodes.InvalidSchemaName)
        {
            return null;
        }

        return applied;
    }

    private static List<PostgresMigration> Compare(string schema, IReadOnlyList<PostgresMigration> known, List<AppliedMigration> applied)
    {
        var shared = Math.Min(known.Count, applied.Count);
        var consistent = true;
        for (var i = 0; consistent && i < shared; i++)
        {
            consistent = applied[i].Version == known[i].Version && applied[i].Name == known[i].Name;
        }

        if (!consistent)
        {
            var sb = new StringBuilder();
            sb.Append("The migrations recorded in schema '").Append(schema)
                .Append("' are not a prefix of the migrations this version of Jobs.Sdk.Postgres knows (or the other way round). ")
                .Append("Was the database edited by hand, or migrated by a build with other migrations? Expected: [")
                .AppendJoin(", ", known.Select(m => $"{m.Version}:{m.Name}"))
                .Append("]; applied: [")
                .AppendJoin(", ", applied.Select(m => $"{m.Version}:{m.Name}"))
                .Append("].");
            throw new PostgresMigrationException(sb.ToString(), []);
        }

        if (applied.Count > known.Count)
        {
            // A newer version migrated the schema: fine while every newer migration says this version still works with it.
            var newer = applied.Skip(known.Count).ToArray();
            var blocking = newer.Where(m => (m.CompatibleFrom ?? m.Version) > known.Count).ToArray();
            if (blocking.Length > 0)
            {
                throw new PostgresSchemaIncompatibleException(
                    $"The job queue schema '{schema}' was migrated by a newer Jobs.Sdk.Postgres (schema version {applied.Count}) that this version " +
                    $"(schema version {known.Count}) cannot run against: {string.Join(", ", blocking.Select(m => $"{m.Version}:{m.Name} needs schema-version-{m.CompatibleFrom ?? m.Version} code or later"))}. " +
                    "Deploy the newer version (a rollback past this migration is not supported); workers of this version stay stopped.",
                    known.Count, applied.Count);
            }

            return [];
        }

        return known.Skip(applied.Count).ToList();
    }

    private sealed record AppliedMigration(int Version, string Name, int? CompatibleFrom);
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

/// <summary>
/// The schema was migrated by a newer Jobs.Sdk.Postgres that this version cannot run against (a rollback past an
/// incompatible migration). Workers stay stopped; the host is not failed, so it does not crash-loop.
/// </summary>
public sealed class PostgresSchemaIncompatibleException : JobsException
{
    /// <summary>Creates the exception.</summary>
    public PostgresSchemaIncompatibleException() : this("The job queue schema is newer than this version supports.", 0, 0) { }

    /// <summary>Creates the exception.</summary>
    public PostgresSchemaIncompatibleException(string message) : this(message, 0, 0) { }

    /// <summary>Creates the exception.</summary>
    public PostgresSchemaIncompatibleException(string message, Exception? innerException) : base(message, innerException) { }

    /// <summary>Creates the exception with the schema versions involved.</summary>
    public PostgresSchemaIncompatibleException(string message, int codeSchemaVersion, int databaseSchemaVersion) : base(message)
    {
        CodeSchemaVersion = codeSchemaVersion;
        DatabaseSchemaVersion = databaseSchemaVersion;
    }

    /// <summary>The number of migrations this version knows.</summary>
    public int CodeSchemaVersion { get; }

    /// <summary>The number of migrations recorded in the database.</summary>
    public int DatabaseSchemaVersion { get; }
}
