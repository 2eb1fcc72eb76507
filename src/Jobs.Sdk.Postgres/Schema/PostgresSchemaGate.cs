using Microsoft.Extensions.Logging;
using Npgsql;

namespace Jobs.Sdk.Postgres;

/// <summary>
/// The driver's readiness: once per driver, brings the schema up to date (or, in a dry run or without
/// <see cref="PostgresJobDriverOptions.MigrateOnStartup"/>, verifies it) before any statement touches the job tables.
/// First it finds out whether the connections reach PostgreSQL directly or through a pooler
/// (<see cref="PostgresPreparation"/>: behind one, no statement is prepared).
/// Transient failures (database not reachable yet) are retried with backoff (unless <see cref="PostgresJobDriverOptions.RetrySchemaCheck"/> is off: rethrown as they are); anything else makes the queue unavailable
/// with an actionable <see cref="JobQueueUnavailableException"/>, which every later operation rethrows.
/// </summary>
/// <remarks>What "up to date" means, and how migrations run, is <see cref="PostgresJobMigrations"/>' business.</remarks>
internal sealed class PostgresSchemaGate(NpgsqlDataSource dataSource, PostgresJobDriverOptions options, PostgresPreparation preparation, TimeProvider time, ILogger logger,
    CancellationToken stopping)
{
    private readonly Lock _lock = new();
    private Task? _ready;

    /// <summary>Completes when the schema is usable; faults with <see cref="JobQueueUnavailableException"/> when it is not.</summary>
    public Task WaitUntilReadyAsync(CancellationToken cancellationToken)
    {
        var ready = Volatile.Read(ref _ready) ?? Start();
        return ready.IsCompletedSuccessfully ? Task.CompletedTask : ready.WaitAsync(cancellationToken);
    }

    /// <summary>The hot-path form of <see cref="WaitUntilReadyAsync"/>: no allocation once the schema is ready.</summary>
    public ValueTask EnsureReadyAsync(CancellationToken cancellationToken)
    {
        var ready = Volatile.Read(ref _ready);
        return ready is { IsCompletedSuccessfully: true } ? default : new ValueTask(WaitUntilReadyAsync(cancellationToken));
    }

    /// <summary>Waits for a started check to end (at dispose, after <c>stopping</c> was cancelled).</summary>
    public async Task StopAsync()
    {
        if (Volatile.Read(ref _ready) is { } ready)
        {
            await ready.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private Task Start()
    {
        lock (_lock)
        {
            // The check is the driver's own, shared by every caller and retried for as long as the server is out of reach:
            // started with the first caller's execution context (a request's first push), its statements were in that
            // request's trace, and its logs in its logging scope, even after the request had given up waiting.
            return _ready ??= DetachedContext.Start(RunAsync);
        }
    }

    private async Task RunAsync()
    {
        var failures = 0;
        while (true)
        {
            try
            {
                if (new NpgsqlConnectionStringBuilder(dataSource.ConnectionString).Multiplexing)
                {
                    throw Multiplexing();
                }

                if (!await preparation.ProbeAsync(stopping).ConfigureAwait(false))
                {
                    PostgresLog.BehindPooler(logger, options.Schema);
                }

                await (options.MigrateOnStartup && !options.DryRun ? ApplyAsync() : VerifyAsync()).ConfigureAwait(false);
                return;
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                throw Disposed(null);
            }
            catch (Exception ex) when (options.RetrySchemaCheck && Transient(ex))
            {
                var delay = PostgresRetry.Backoff(++failures);
                if (MigrationLockTimeout.Is(ex))
                {
                    PostgresLog.MigrationsWaitingForLock(logger, ex, options.Schema, delay, ex.Message);
                }
                else
                {
                    PostgresLog.MigrationsRetrying(logger, ex, options.Schema, delay);
                }

                try
                {
                    await Task.Delay(delay, time, stopping).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    throw Disposed(ex);
                }
            }
            catch (Exception ex) when (!options.RetrySchemaCheck && Transient(ex))
            {
                // Not retried (a one-shot command): its caller says what the database did, with that error's exit code.
                PostgresLog.MigrationsFailed(logger, ex, options.Schema);
                throw;
            }
            catch (PostgresSchemaIncompatibleException ex)
            {
                // Not retried and not a crash: the host keeps running, the workers stay stopped, the log says what to do.
                PostgresLog.SchemaIncompatible(logger, ex, options.Schema, ex.CodeSchemaVersion, ex.DatabaseSchemaVersion);
                throw new JobQueueUnavailableException($"The job queue (schema '{options.Schema}', queue '{options.QueueName}') is unavailable: {ex.Message}", ex);
            }
            catch (Exception ex)
            {
                PostgresLog.MigrationsFailed(logger, ex, options.Schema);
                throw new JobQueueUnavailableException(
                    $"The job queue (schema '{options.Schema}', queue '{options.QueueName}') is unavailable: {ex.Message}", ex);
            }
        }
    }

    /// <summary>A failure the check retries (unless <see cref="PostgresJobDriverOptions.RetrySchemaCheck"/> is off): the server out of reach or slow, a lock timeout.</summary>
    private static bool Transient(Exception ex)
        => PostgresRetry.IsTransient(ex) || ex is PostgresException { SqlState: PostgresErrorCodes.LockNotAvailable } || MigrationLockTimeout.Is(ex);

    private async Task ApplyAsync()
    {
        var applied = await PostgresJobMigrations.ApplyAsync(dataSource, options.Schema, MigrationWaitReport.Logging(logger), stopping).ConfigureAwait(false);
        if (applied.Count > 0)
        {
            PostgresLog.MigrationsApplied(logger, applied.Count, options.Schema, string.Join(", ", applied));
        }
        else
        {
            PostgresLog.MigrationsUpToDate(logger, options.Schema);
        }
    }

    private async Task VerifyAsync()
    {
        var pending = await PostgresJobMigrations.GetPendingAsync(dataSource, options.Schema, stopping).ConfigureAwait(false);
        if (pending.Count > 0)
        {
            throw new PostgresMigrationException(
                $"The job queue schema '{options.Schema}' needs {pending.Count} migration(s) that were not applied: {string.Join(", ", pending)}. " +
                "Apply them (run PostgresJobMigrations.GetScript(schema), call PostgresJobMigrations.ApplyAsync, or set MigrateOnStartup = true and DryRun = false).",
                pending);
        }

        PostgresLog.MigrationsUpToDate(logger, options.Schema);
    }

    /// <summary>
    /// The data source multiplexes: the driver's own connections (the LISTEN connection, each queue's held claim
    /// connection, prepared statements, the pooler probe's server process id) need a physical connection each, which
    /// multiplexing does not bind; Npgsql's own error ("No bound physical connection") named neither the option nor a fix.
    /// </summary>
    private static InvalidOperationException Multiplexing() => new(
        "The PostgreSQL job driver needs a data source without Multiplexing (its connection string sets Multiplexing=true): it keeps connections of " +
        "its own (the LISTEN/NOTIFY connection, each queue's claim connection) and prepares statements on them, which multiplexing does not allow. " +
        "Give the jobs a connection string without Multiplexing=true (your other data sources may keep it).");

    private static JobQueueUnavailableException Disposed(Exception? inner)
        => new("The PostgreSQL job driver was disposed before its schema was ready.", inner);
}
