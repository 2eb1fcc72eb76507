namespace Jobs.Sdk.Postgres;

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

    /// <summary>The version of the newest migration this version knows (its migrations are numbered from 1 without gaps: their number).</summary>
    public int CodeSchemaVersion { get; }

    /// <summary>The version of the newest migration recorded in the database (<c>schema_migrations</c>).</summary>
    public int DatabaseSchemaVersion { get; }
}
