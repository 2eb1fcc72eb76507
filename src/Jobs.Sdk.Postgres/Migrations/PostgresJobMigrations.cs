using System.Globalization;
using System.Text;
using Npgsql;
using NpgsqlTypes;

namespace Jobs.Sdk.Postgres;

/// <summary>
/// The PostgreSQL driver's schema migrations: versioned, named, recorded in <c>{schema}.schema_migrations</c> with the
/// oldest code version each is compatible with, applied under an advisory lock (so many processes starting at once apply
/// them once), the pending ones in one transaction (a step that must run outside one, <c>CREATE INDEX CONCURRENTLY</c>,
/// splits them).
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
    /// It is idempotent: migrations already recorded are skipped, and it takes the same advisory lock as the driver. Run
    /// again after a <c>CREATE INDEX CONCURRENTLY</c> step failed part-way, it drops the invalid index the build left
    /// (without locking the table) and builds it again, as the driver does.
    /// </summary>
    public static string GetScript(string schema = "jobs") => BuildScript(schema, GetMigrations(schema));

    /// <summary><see cref="GetScript(string)"/> of <paramref name="migrations"/> (tests add steps of their own).</summary>
    internal static string BuildScript(string schema, IReadOnlyList<PostgresMigration> migrations)
    {
        var quoted = PostgresIdentifier.Quote(schema);
        var sb = new StringBuilder();
        sb.Append("-- Jobs.Sdk.Postgres schema for ").Append(quoted).Append(" (").Append(migrations.Count).AppendLine(" migrations).");
        sb.AppendLine("BEGIN;");
        sb.Append("SELECT pg_advisory_xact_lock(").Append(LockKey(schema)).AppendLine(");");
        sb.AppendLine(Sub(MigrationSql.CreateSchemaAndTable, quoted));
        foreach (var migration in migrations)
        {
            sb.Append("-- ").Append(migration.Version).Append(": ").AppendLine(migration.Name);
            var record = $"INSERT INTO {quoted}.schema_migrations (version, name, compatible_from) VALUES ({migration.Version}, '{migration.Name}', {migration.CompatibleFrom}) ON CONFLICT (version) DO NOTHING;";
            if (!migration.RunsInTransaction)
            {
                // Outside a transaction (CREATE INDEX CONCURRENTLY); its statements are idempotent. A concurrent build that
                // failed part-way left its index invalid, which IF NOT EXISTS would take for built: it is dropped first.
                sb.AppendLine("COMMIT;");
                var builds = 0;
                foreach (var statement in MigrationMarkers.Statements(migration.Sql))
                {
                    if (MigrationMarkers.ConcurrentIndexName(statement) is { } index)
                    {
                        ScriptInvalidIndex.AppendDrop(sb, quoted, index, migration.Version, ++builds);
                    }

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
    /// Applies the pending migrations of <paramref name="schema"/> under a session advisory lock, with a <c>lock_timeout</c>
    /// on the DDL: consecutive ones in one transaction and one round trip (all or none of them), a step marked
    /// <see cref="PostgresMigration.RunsInTransaction"/> false outside one. A fresh schema is installed with one commit. The schema is verified first with one SELECT and no DDL: when it is current (or
    /// newer and compatible with this version), nothing else runs, so a role with DML rights only can call it. Returns
    /// the names applied (empty when the schema was up to date). Throws <see cref="PostgresSchemaIncompatibleException"/>
    /// when the database was migrated by a newer version this one is not compatible with, and
    /// <see cref="PostgresMigrationException"/> when the recorded migrations are not the ones this version knows, or when
    /// migrations are pending and <paramref name="dataSource"/> goes through a connection pooler such as PgBouncer (its
    /// transaction pooling cannot keep the migration lock on one server session: apply them over a direct connection), or
    /// when a migration's DDL waited for a table lock past the lock timeout (its inner exception the
    /// <see cref="PostgresException"/> 55P03, its message the sessions that hold locks on the schema's tables: call it again
    /// once they are done), or when the role may not apply a migration (its inner exception the <see cref="PostgresException"/>
    /// 42501, its message the role that owns the schema's tables). The migrations' statements run without the data source's
    /// <c>Command Timeout</c>.
    /// </summary>
    public static Task<IReadOnlyList<string>> ApplyAsync(NpgsqlDataSource dataSource, string schema = "jobs", CancellationToken cancellationToken = default)
        => ApplyAsync(dataSource, schema, GetMigrations(schema), DefaultLockTimeout, cancellationToken);

    /// <summary>How long a migration's DDL waits for a table lock before it fails (and is retried): 10 s.</summary>
    internal static readonly TimeSpan DefaultLockTimeout = TimeSpan.FromSeconds(10);

    internal static Task<IReadOnlyList<string>> ApplyAsync(NpgsqlDataSource dataSource, string schema, IReadOnlyList<PostgresMigration> migrations,
        TimeSpan lockTimeout, CancellationToken cancellationToken)
        => ApplyAsync(dataSource, schema, migrations, lockTimeout, null, cancellationToken);

    /// <summary>
    /// <see cref="ApplyAsync(NpgsqlDataSource, string, CancellationToken)"/> with <paramref name="report"/> told, while a
    /// <c>CREATE INDEX CONCURRENTLY</c> step waits for other sessions' transactions, which ones (the host's log, <c>jobs migrate</c>'s stderr).
    /// </summary>
    internal static Task<IReadOnlyList<string>> ApplyAsync(NpgsqlDataSource dataSource, string schema, MigrationWaitReport? report, CancellationToken cancellationToken)
        => ApplyAsync(dataSource, schema, GetMigrations(schema), DefaultLockTimeout, report, cancellationToken);

    internal static async Task<IReadOnlyList<string>> ApplyAsync(NpgsqlDataSource dataSource, string schema, IReadOnlyList<PostgresMigration> migrations,
        TimeSpan lockTimeout, MigrationWaitReport? report, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        var quoted = PostgresIdentifier.Quote(schema);
        // A pooled connection the server ended while it idled (idle_session_timeout) ran nothing: once more on a new one.
        return await IdleSessionRetry.RunAsync<IReadOnlyList<string>>(dataSource, async (connection, _) =>
        {
            // Verify before any DDL: one SELECT. Current (or newer and compatible): done.
            var applied = await TryReadAppliedAsync(connection, quoted, cancellationToken).ConfigureAwait(false);
            if (applied is not null && Compare(schema, migrations, applied).Count == 0)
            {
                return [];
            }

            // Pending (or a fresh schema): few round trips and one commit per run of transactional migrations. The lock
            // and the lock timeout are one round trip; BEGIN and the migrations table (made if missing) with its read are
            // one; the first run's migrations, their records and COMMIT are one; reset and unlock are one.
            return await MigrateAsync(dataSource, connection, schema, quoted, migrations, lockTimeout, report, cancellationToken).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
    }

    private static PostgresMigrationException BehindPooler(string schema, IReadOnlyList<string> pending) => new(
        $"The job queue schema '{schema}' has migrations to apply, and this data source's connections go through a connection pooler " +
        "(such as PgBouncer: the server process id differs from the one the connection announced). Migrations hold a session advisory lock " +
        "across transactions, which a transaction pooler cannot keep on one server session. Apply them over a direct connection to PostgreSQL " +
        "(`jobs migrate` or PostgresJobMigrations.ApplyAsync on a data source that bypasses the pooler, or run PostgresJobMigrations.GetScript(schema)), " +
        "and set MigrateOnStartup = false on the processes behind the pooler.", pending);

    /// <summary>
    /// Takes the migration lock on <paramref name="connection"/>, applies what is still pending, releases the lock: a fresh
    /// schema in four round trips (lock and lock timeout; <c>BEGIN</c>, migrations table and its read; every migration with
    /// its record and <c>COMMIT</c>; reset and unlock), after the read that found it pending.
    /// </summary>
    private static async Task<IReadOnlyList<string>> MigrateAsync(NpgsqlDataSource dataSource, NpgsqlConnection connection, string schema, string quoted,
        IReadOnlyList<PostgresMigration> migrations, TimeSpan lockTimeout, MigrationWaitReport? report, CancellationToken cancellationToken)
    {
        // The lock in a transaction of its own: the one that reads the migrations table must start after the lock was
        // granted, so that it sees (in its catalog caches too) what the previous holder committed.
        try
        {
            await MigrationLock.LockAsync(connection, schema, lockTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UndefinedObject && ex.Message.Contains(MigrationSql.PoolerMarker, StringComparison.Ordinal))
        {
            throw BehindPooler(schema, Compare(schema, migrations, await TryReadAppliedAsync(connection, quoted, cancellationToken).ConfigureAwait(false) ?? [])
                .Select(m => m.Name).ToArray());
        }

        var failed = true;
        IReadOnlyList<PostgresMigration> running = [];
        try
        {
            var names = new List<string>();
            var applied = await ReadAppliedAsync(connection, null,
                "BEGIN;\n" + Sub(MigrationSql.CreateSchemaAndTable, quoted) + "\n" + Sub(MigrationSql.Applied, quoted), unbounded: true, cancellationToken).ConfigureAwait(false);
            var pending = Compare(schema, migrations, applied);
            var first = TakeRun(pending, 0);
            running = first;
            await ExecuteAsync(connection, null, RunSql(first, quoted) + "COMMIT;", cancellationToken).ConfigureAwait(false);
            names.AddRange(first.Select(m => m.Name));
            for (var i = first.Count; i < pending.Count;)
            {
                var migration = pending[i];
                if (!migration.RunsInTransaction)
                {
                    running = [migration];
                    var step = new NoTransactionStep(dataSource, connection, schema, quoted, migration, lockTimeout, report);
                    await step.RunAsync(cancellationToken).ConfigureAwait(false);
                    await ExecuteAsync(connection, null, Record(migration, quoted), cancellationToken).ConfigureAwait(false);
                    names.Add(migration.Name);
                    i++;
                    continue;
                }

                var run = TakeRun(pending, i);
                running = run;
                await RunInTransactionAsync(connection, RunSql(run, quoted), cancellationToken).ConfigureAwait(false);
                names.AddRange(run.Select(m => m.Name));
                i += run.Count;
            }

            failed = false;
            return names;
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.LockNotAvailable)
        {
            // Which migrations waited, for which sessions' locks, and what to do (PostgreSQL's message says none of it).
            var described = await MigrationLockTimeout.DescribeAsync(connection, schema, quoted, running, lockTimeout, ex).ConfigureAwait(false);
            if (ReferenceEquals(described, ex))
            {
                throw;
            }

            throw described;
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.InsufficientPrivilege)
        {
            // Which role may apply them, and how to go on (PostgreSQL's "must be owner of table jobs" says neither).
            var described = await MigrationPrivilege.DescribeAsync(connection, schema, quoted, running, ex).ConfigureAwait(false);
            if (ReferenceEquals(described, ex))
            {
                throw;
            }

            throw described;
        }
        finally
        {
            if (!failed)
            {
                await MigrationLock.UnlockAsync(connection, schema, rollback: false).ConfigureAwait(false);
            }
            else if (connection.State == System.Data.ConnectionState.Open)
            {
                // Not masking the failure: a connection that cannot run this is broken, and its session (with the lock) is gone.
                try
                {
                    await MigrationLock.UnlockAsync(connection, schema, rollback: true).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException)
                {
                }
            }
        }
    }

    /// <summary>The consecutive migrations from <paramref name="start"/> on that run in a transaction (they share one).</summary>
    private static List<PostgresMigration> TakeRun(List<PostgresMigration> pending, int start)
    {
        var run = new List<PostgresMigration>();
        for (var i = start; i < pending.Count && pending[i].RunsInTransaction; i++)
        {
            run.Add(pending[i]);
        }

        return run;
    }

    /// <summary>The migrations of a run, each followed by the statement that records it: one command, one round trip.</summary>
    private static string RunSql(List<PostgresMigration> run, string quoted)
    {
        var sb = new StringBuilder();
        foreach (var migration in run)
        {
            var body = migration.Sql.TrimEnd();
            sb.AppendLine(body.EndsWith(';') ? body : body + "\n;");
            sb.AppendLine(Record(migration, quoted));
        }

        return sb.ToString();
    }

    /// <summary>The statement recording <paramref name="migration"/> (version, name and compatibility are the code's own values).</summary>
    private static string Record(PostgresMigration migration, string quoted)
        => $"INSERT INTO {quoted}.schema_migrations (version, name, compatible_from) VALUES ({migration.Version.ToString(CultureInfo.InvariantCulture)}, " +
           $"'{migration.Name.Replace("'", "''", StringComparison.Ordinal)}', {migration.CompatibleFrom.ToString(CultureInfo.InvariantCulture)});";

    private static async Task RunInTransactionAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using (transaction.ConfigureAwait(false))
        {
            await ExecuteAsync(connection, transaction, sql, cancellationToken).ConfigureAwait(false);
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
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
        // A pooled connection the server ended while it idled (idle_session_timeout) ran nothing: once more on a new one.
        return await IdleSessionRetry.RunAsync<IReadOnlyList<string>>(dataSource, async (connection, _) =>
        {
            var applied = await TryReadAppliedAsync(connection, quoted, cancellationToken).ConfigureAwait(false) ?? [];
            return Compare(schema, migrations, applied).Select(m => m.Name).ToArray();
        }, cancellationToken).ConfigureAwait(false);
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

    /// <summary>
    /// Runs a statement of the migrating session without the data source's <c>Command Timeout</c> (Npgsql's, 30 s by
    /// default), as the session runs without its <c>statement_timeout</c>: the lock timeout bounds the DDL's waits for table
    /// locks, and the work itself (an index over a large table) takes as long as it takes; cancelled after 30 s, a migration
    /// longer than that never completed, and the host retried it forever.
    /// </summary>
    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql, CancellationToken cancellationToken,
        params NpgsqlParameter[] parameters)
    {
        var command = new NpgsqlCommand(sql, connection, transaction) { CommandTimeout = 0 };
        await using var commandDisposal = command.ConfigureAwait(false);
        foreach (var parameter in parameters)
        {
            command.Parameters.Add(parameter);
        }

        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The recorded migrations (version, name, compatible-from), or <see langword="null"/> when the table does not exist.</summary>
    private static async Task<List<AppliedMigration>?> TryReadAppliedAsync(NpgsqlConnection connection, string quoted, CancellationToken cancellationToken)
    {
        try
        {
            return await ReadAppliedAsync(connection, null, Sub(MigrationSql.Applied, quoted), unbounded: false, cancellationToken).ConfigureAwait(false);
        }
        catch (PostgresException ex) when (ex.SqlState is PostgresErrorCodes.UndefinedTable or PostgresErrorCodes.InvalidSchemaName)
        {
            return null;
        }
    }

    /// <summary>
    /// Runs <paramref name="sql"/> (statements ending with the read of the migrations table) and returns what the read found;
    /// <paramref name="unbounded"/>: without the data source's <c>Command Timeout</c> (the migrating session's DDL, see <see cref="ExecuteAsync"/>).
    /// </summary>
    private static async Task<List<AppliedMigration>> ReadAppliedAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql,
        bool unbounded, CancellationToken cancellationToken)
    {
        var applied = new List<AppliedMigration>();
        var command = new NpgsqlCommand(sql, connection, transaction);
        if (unbounded)
        {
            command.CommandTimeout = 0;
        }

        await using var commandDisposal = command.ConfigureAwait(false);
        var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            while (reader.FieldCount != 3 && await reader.NextResultAsync(cancellationToken).ConfigureAwait(false))
            {
                // Past the results of the DDL in front of the read.
            }

            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                applied.Add(new AppliedMigration(reader.GetInt32(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetInt32(2)));
            }
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
                // Named as schema_migrations records them (version:name): "schema version N" would be a count no table shows.
                var newest = applied[^1];
                throw new PostgresSchemaIncompatibleException(
                    $"The job queue schema '{schema}' was migrated by a newer Jobs.Sdk.Postgres (newest migration {newest.Version}:{newest.Name}) that this version " +
                    $"(newest migration {known[^1].Version}:{known[^1].Name}) cannot run against: {string.Join(", ", blocking.Select(m => Needs(m, applied)))}. " +
                    "Deploy the newer version (a rollback past this migration is not supported); workers of this version stay stopped.",
                    known[^1].Version, newest.Version);
            }

            return [];
        }

        return known.Skip(applied.Count).ToList();
    }

    /// <summary>What code a newer migration needs: code that knows the migration its <c>compatible_from</c> names, or later.</summary>
    private static string Needs(AppliedMigration migration, List<AppliedMigration> applied)
    {
        var from = migration.CompatibleFrom ?? migration.Version;
        if (from == migration.Version)
        {
            return $"{migration.Version}:{migration.Name} needs code that knows it";
        }

        return applied.Find(m => m.Version == from) is { } needed
            ? $"{migration.Version}:{migration.Name} needs code that knows {needed.Version}:{needed.Name} or later"
            : $"{migration.Version}:{migration.Name} needs code that knows migration {from} or later";
    }

    private sealed record AppliedMigration(int Version, string Name, int? CompatibleFrom);
}
