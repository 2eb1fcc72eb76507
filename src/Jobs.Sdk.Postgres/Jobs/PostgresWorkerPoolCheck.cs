using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;

namespace Jobs.Sdk.Postgres;

/// <summary>
/// At the start of a host with workers: fails the start when the data source's pool cannot hold the connections the
/// workers keep open for good plus one for everything else (before, such a worker logged "The connection pool has been
/// exhausted" every 15 s and never ran a job), or when its transactions are not READ COMMITTED
/// (<see cref="WorkerIsolationCheck"/>), and reserves each served queue's claim-and-renewal connection
/// (<see cref="WorkerConnection"/>). The connections the workers of other hosts on the same data source hold for good count
/// too (<see cref="KeptConnections"/>): they share its pool. Registered by <c>UsePostgres</c>; does nothing in a host without workers (pushes hold
/// no connection for good).
/// </summary>
internal sealed class PostgresWorkerPoolCheck(PostgresJobDriver driver, IServiceProvider services) : IHostedService
{
    /// <inheritdoc />
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (services.GetService<JobWorker>() is not { } worker)
        {
            return;
        }

        var pool = new NpgsqlConnectionStringBuilder(driver.DataSource.ConnectionString);
        if (!pool.Pooling)
        {
            // Every open is a new server connection: nothing waits for a pool, nothing needs reserving.
            await WorkerIsolationCheck.CheckAsync(driver.DataSource, cancellationToken).ConfigureAwait(false);
            return;
        }

        var queues = worker.QueueNames.Distinct(StringComparer.Ordinal).ToArray();
        var listen = driver.Options.UseListenNotify;
        var held = (listen ? 1 : 0) + queues.Length;
        if (!KeptConnections.TryKeep(driver.DataSource, driver, held, pool.MaxPoolSize, out var others))
        {
            var minimum = others + held + 1;
            var shared = others == 0 ? "" :
                $"Another host in this process keeps {others} of this data source's connections open for its workers (hosts sharing one NpgsqlDataSource share its pool): " +
                "give each host a data source of its own, or count them in. ";
            throw new InvalidOperationException(
                $"The job workers need at least {minimum} connections of their PostgreSQL data source, and its Maximum Pool Size is {pool.MaxPoolSize}. " +
                $"They keep {held} open for good ({(listen ? "the LISTEN/NOTIFY connection and " : "")}one for the claims and lease renewals of each of " +
                $"the {queues.Length} queue(s) they serve, while it has work) and need at least one more for their outcomes, rescues and pushes; with fewer, no job would run. " +
                shared +
                $"Raise Maximum Pool Size to at least {minimum}, plus the connections your handlers hold at once when they use the same data source " +
                "(see \"Connection pool sizing\" in the Jobs.Sdk.Postgres README).");
        }

        try
        {
            await WorkerIsolationCheck.CheckAsync(driver.DataSource, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            KeptConnections.Release(driver.DataSource, driver);
            throw;
        }

        foreach (var queue in queues)
        {
            ((PostgresJobDriver)driver.ForQueue(queue)).ReserveWorkerConnection();
        }
    }

    /// <inheritdoc />
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
