using Jobs.Sdk.Drivers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Jobs.Sdk.Postgres;

/// <summary>Configures Jobs.Sdk to store jobs in PostgreSQL.</summary>
public static class PostgresJobsBuilderExtensions
{
    /// <summary>
    /// Stores jobs in PostgreSQL through <paramref name="dataSource"/> (which you keep owning). A data source built with
    /// <see cref="NpgsqlSlimDataSourceBuilder"/> must call <c>EnableArrays()</c>.
    /// </summary>
    /// <example>
    /// <code>
    /// services.AddJobs(jobs => jobs
    ///     .UsePostgres(dataSource, o => { o.QueueName = "emails"; o.Schema = "jobs"; })
    ///     .AddWorkers());
    /// </code>
    /// </example>
    public static JobsBuilder UsePostgres(this JobsBuilder builder, NpgsqlDataSource dataSource, Action<PostgresJobDriverOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(dataSource);
        return Use(builder, _ => dataSource, ownsDataSource: false, configure);
    }

    /// <summary>
    /// Stores jobs in PostgreSQL at <paramref name="connectionString"/>. The driver builds (and disposes) a slim,
    /// AOT-friendly data source with arrays enabled.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="connectionString"/> is empty or not a valid Npgsql connection string (the message says why).</exception>
    public static JobsBuilder UsePostgres(this JobsBuilder builder, string connectionString, Action<PostgresJobDriverOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(connectionString);
        CheckConnectionString(connectionString);
        return Use(builder, sp => CreateDataSource(connectionString, sp.GetService<ILoggerFactory>()), ownsDataSource: true, configure);
    }

    /// <summary>
    /// Parses <paramref name="connectionString"/> now, where the app gives it, instead of when the container first builds the
    /// data source (the host's start, with Npgsql's bare message). The message never repeats the string: it may hold a password.
    /// </summary>
    private static void CheckConnectionString(string connectionString)
    {
        try
        {
            _ = new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (ArgumentException ex)
        {
            throw new ArgumentException($"The connection string given to UsePostgres is not valid: {ex.Message}", nameof(connectionString), ex);
        }
    }

    /// <summary>
    /// Builds the data source the connection-string overload uses: slim builder, arrays enabled, no loading of the
    /// server's type catalog at the first connection (the job tables use built-in types only; this shortens start-up),
    /// and no session reset when a pooled connection is returned (<c>No Reset On Close</c>): the driver leaves no
    /// session state behind, and the reset would otherwise add several statements to every claim, completion and push.
    /// Npgsql logs through <paramref name="loggerFactory"/>'s loggers guarded: an entry a provider throws on is dropped
    /// instead of failing the command that logged it (Npgsql logs each completed command after it ran).
    /// </summary>
    public static NpgsqlDataSource CreateDataSource(string connectionString, ILoggerFactory? loggerFactory = null)
        => BuildDataSource(connectionString, loggerFactory, configure: null);

    /// <summary>
    /// <see cref="CreateDataSource"/>'s data source, with <paramref name="configure"/> applied to its builder last (the
    /// jobs tool watches whether a login completed, to tell an unreachable server from a statement that failed).
    /// </summary>
    internal static NpgsqlDataSource BuildDataSource(string connectionString, ILoggerFactory? loggerFactory, Action<NpgsqlSlimDataSourceBuilder>? configure)
    {
        ArgumentException.ThrowIfNullOrEmpty(connectionString);
        var builder = new NpgsqlSlimDataSourceBuilder(connectionString);
        builder.ConnectionStringBuilder.NoResetOnClose = true;
        builder.ConfigureTypeLoading(t => t.EnableTypeLoading(false));
        builder.EnableArrays();
        if (loggerFactory is not null)
        {
            builder.UseLoggerFactory(new GuardedLoggerFactory(loggerFactory));
        }

        configure?.Invoke(builder);
        return builder.Build();
    }

    private static JobsBuilder Use(JobsBuilder builder, Func<IServiceProvider, NpgsqlDataSource> dataSource, bool ownsDataSource,
        Action<PostgresJobDriverOptions>? configure)
    {
        var options = new PostgresJobDriverOptions();
        configure?.Invoke(options);
        options.Validate();
        builder.UseDriver(sp => new PostgresJobDriver(dataSource(sp), options,
            sp.GetService<ILoggerFactory>()?.CreateLogger<PostgresJobDriver>(), sp.GetService<TimeProvider>(), ownsDataSource));
        builder.Services.AddSingleton(sp => (PostgresJobDriver)sp.GetRequiredService<IJobDriver>());
        builder.Services.AddSingleton<IJobScheduleStore>(sp => sp.GetRequiredService<PostgresJobDriver>());
        builder.Services.AddSingleton<IJobAdminStore>(sp => sp.GetRequiredService<PostgresJobDriver>().CreateAdminStore());
        builder.Services.AddHostedService(sp => new PostgresWorkerPoolCheck(sp.GetRequiredService<PostgresJobDriver>(), sp));
        if (options.MigrateOnStartup)
        {
            builder.Services.AddHostedService(sp => new PostgresMigrationService(sp.GetRequiredService<PostgresJobDriver>()));
        }

        return builder;
    }
}
