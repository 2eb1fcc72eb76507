using Jobs.Sdk.Postgres;
using Npgsql;

namespace Jobs.Sdk.Cli;

/// <summary>The connection, schema and output mode of one command run.</summary>
internal sealed class CliContext : IAsyncDisposable
{
    private CliContext(NpgsqlDataSource dataSource, string schema, bool json)
    {
        DataSource = dataSource;
        Schema = schema;
        Json = json;
        Admin = PostgresJobAdmin.Create(dataSource, new PostgresJobDriverOptions { Schema = schema });
    }

    public NpgsqlDataSource DataSource { get; }
    public string Schema { get; }
    public bool Json { get; }
    public JobAdmin Admin { get; }
    public string QuotedSchema => "\"" + Schema + "\"";

    /// <summary>Cancelled by Ctrl+C or SIGTERM (<see cref="Interruption"/>): pass it to every database call.</summary>
    public CancellationToken Cancellation => Interruption.Token;

    /// <summary>
    /// Before a command changes anything: throws <see cref="PostgresSchemaIncompatibleException"/> when a newer version
    /// migrated the schema with a migration this version cannot run against (after a rolling upgrade; the workers of this
    /// version stay stopped for the same reason), or <see cref="PostgresMigrationException"/> when its migrations are not
    /// this version's. One read of the migrations table, as a worker's start does.
    /// </summary>
    public async Task CheckSchemaBeforeChangeAsync()
        => _ = await PostgresJobMigrations.GetPendingAsync(DataSource, Schema, Cancellation).ConfigureAwait(false);

    /// <summary>
    /// Before a command runs statements through a <see cref="PostgresJobDriver"/> (<c>cleanup</c>, <c>audit prune</c>), whose
    /// own schema check is a worker's: it retries for as long as the server is out of reach (the tool hung, silent), and it
    /// refuses a schema it cannot use in the words of the library's options (exit 1). One read of the migrations table that
    /// fails at once instead, as every other command does: <see cref="Npgsql.NpgsqlException"/> (exit 69, 75, 77),
    /// <see cref="PostgresSchemaIncompatibleException"/> (78), and a <see cref="CliException"/> (78, <c>jobs migrate</c>)
    /// for a schema without the job tables or older than this tool. Nothing is changed.
    /// </summary>
    public async Task CheckSchemaForDriverAsync()
    {
        var pending = await PostgresJobMigrations.GetPendingAsync(DataSource, Schema, Cancellation).ConfigureAwait(false);
        if (pending.Count == 0)
        {
            return;
        }

        throw new CliException(pending.Count == PostgresJobMigrations.GetMigrations(Schema).Count
            ? $"the job tables are missing in schema '{Schema}' (no migration of this jobs tool is applied there); nothing was changed. " +
              "Run `jobs migrate` first, or pass the right --schema."
            : $"schema '{Schema}' is older than this jobs tool ({pending.Count} migration(s) not applied: {string.Join(", ", pending)}); nothing was changed. " +
              "Run `jobs migrate --dry-run` to see the pending migrations and `jobs migrate` to apply them, or use the jobs tool of the version that migrated it.")
        {
            ExitCode = ExitCodes.SchemaRefused,
        };
    }

    /// <summary>Opens the store from <paramref name="connection"/> or <c>JOBS_CONNECTION</c>.</summary>
    public static CliContext Open(string? connection, string schema, bool json)
    {
        connection ??= Environment.GetEnvironmentVariable("JOBS_CONNECTION");
        if (string.IsNullOrWhiteSpace(connection))
        {
            throw new CliException("No database: pass --connection \"Host=...;Database=...;Username=...\" or set JOBS_CONNECTION.");
        }

        NpgsqlDataSource dataSource;
        try
        {
            dataSource = PostgresJobsBuilderExtensions.BuildDataSource(CommandTimeout.Apply(connection), loggerFactory: null, Login.Watch);
        }
        catch (ArgumentException ex)
        {
            throw new CliException($"--connection is not a valid PostgreSQL connection string: {ex.Message}");
        }

        try
        {
            return new CliContext(dataSource, schema, json);
        }
        catch (ArgumentException ex)
        {
            dataSource.Dispose();
            throw new CliException($"--schema: {ex.Message}");
        }
    }

    /// <summary>The actor recorded in the audit log: <c>--actor</c>, else <c>cli:{user}@{host}</c>.</summary>
    public static AuditInfo Audit(string? actor, string? reason)
        => new(actor ?? $"cli:{Environment.UserName}@{Environment.MachineName}", reason);

    public ValueTask DisposeAsync() => DataSource.DisposeAsync();
}

/// <summary>An error the tool explains: printed without a stack trace; exit code <see cref="ExitCode"/> (by default a command line it cannot use).</summary>
internal sealed class CliException : Exception
{
    /// <summary>The exit code (<see cref="ExitCodes"/>): <see cref="ExitCodes.Usage"/> unless the thrower says otherwise.</summary>
    public int ExitCode { get; init; } = ExitCodes.Usage;

    public CliException() { }
    public CliException(string message) : base(message) { }
    public CliException(string message, Exception innerException) : base(message, innerException) { }
}

/// <summary>A command stopped by Ctrl+C or SIGTERM, saying how far it got: printed after "interrupted:", exit code <see cref="ExitCodes.Interrupted"/>.</summary>
internal sealed class CliInterruptedException : Exception
{
    public CliInterruptedException() { }
    public CliInterruptedException(string message) : base(message) { }
    public CliInterruptedException(string message, Exception innerException) : base(message, innerException) { }
}
