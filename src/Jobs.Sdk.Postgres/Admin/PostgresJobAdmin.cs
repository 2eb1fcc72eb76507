using Microsoft.Extensions.Logging;
using Npgsql;

namespace Jobs.Sdk.Postgres;

/// <summary>Builds a <see cref="JobAdmin"/> on a PostgreSQL job schema without a host (tools, scripts, the <c>jobs</c> CLI).</summary>
public static class PostgresJobAdmin
{
    /// <summary>
    /// A <see cref="JobAdmin"/> over every queue of <see cref="PostgresJobDriverOptions.Schema"/> in <paramref name="dataSource"/>
    /// (which you keep owning). Nothing is migrated: apply the migrations first (<see cref="PostgresJobMigrations.ApplyAsync(Npgsql.NpgsqlDataSource, string, System.Threading.CancellationToken)"/> or
    /// <c>jobs migrate</c>).
    /// </summary>
    /// <example>
    /// <code>
    /// await using var dataSource = PostgresJobsBuilderExtensions.CreateDataSource(connectionString);
    /// var admin = PostgresJobAdmin.Create(dataSource, new PostgresJobDriverOptions { Schema = "jobs" });
    /// var failed = await admin.ListJobsAsync(new JobQuery { States = [JobState.Failed] });
    /// </code>
    /// </example>
    public static JobAdmin Create(NpgsqlDataSource dataSource, PostgresJobDriverOptions? options = null, ILogger<JobAdmin>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        options ??= new PostgresJobDriverOptions();
        return new JobAdmin(new PostgresJobAdminStore(dataSource, options.Schema, null, options.Retention,
            new ReadOnlyPoolReset(dataSource, GuardedLogger.For(logger))), logger);
    }

    /// <summary>
    /// Throws the <see cref="ArgumentException"/> a <see cref="JobAdmin"/> action would for <paramref name="audit"/> (text no
    /// store can hold, or over <see cref="AuditInfo.MaxActorLength"/> or <see cref="AuditInfo.MaxReasonLength"/>): for an
    /// action that records its entry through the store itself (the <c>jobs audit prune</c> command), before it acts.
    /// </summary>
    internal static void CheckAudit(AuditInfo audit) => JobTextLimits.CheckAudit(audit, nameof(audit));

    /// <summary>The admin store of a driver's schema, gated on the driver's migrations.</summary>
    internal static PostgresJobAdminStore CreateAdminStore(this PostgresJobDriver driver)
        => new(driver.DataSource, driver.Schema, driver.WaitUntilReadyAsync, driver.Options.Retention, driver.ReadOnlyReset);
}
