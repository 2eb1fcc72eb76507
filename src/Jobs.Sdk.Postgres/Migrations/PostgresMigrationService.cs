using Microsoft.Extensions.Hosting;

namespace Jobs.Sdk.Postgres;

/// <summary>
/// Applies (or, with <see cref="PostgresJobDriverOptions.DryRun"/>, verifies) the driver's migrations when the host
/// starts. Registered by <c>UsePostgres</c> unless <see cref="PostgresJobDriverOptions.MigrateOnStartup"/> is false.
/// Host startup fails with <see cref="JobQueueUnavailableException"/> when the schema cannot be made usable, and
/// pushes, workers and cleanup fail with the same error instead of waiting forever.
/// </summary>
internal sealed class PostgresMigrationService : IHostedService
{
    private readonly PostgresJobDriver _driver;

    /// <summary>Creates the service for <paramref name="driver"/>.</summary>
    public PostgresMigrationService(PostgresJobDriver driver)
    {
        ArgumentNullException.ThrowIfNull(driver);
        _driver = driver;
    }

    /// <summary>Whether this service only verifies the schema (a dry run) instead of applying migrations.</summary>
    public bool DryRun => _driver.Options.DryRun;

    /// <inheritdoc />
    public Task StartAsync(CancellationToken cancellationToken) => _driver.WaitUntilReadyAsync(cancellationToken);

    /// <inheritdoc />
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
