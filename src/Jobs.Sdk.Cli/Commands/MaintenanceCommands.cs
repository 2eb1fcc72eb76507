using ConsoleAppFramework;
using Jobs.Sdk.Postgres;
using Npgsql;

namespace Jobs.Sdk.Cli;

/// <summary>migrate, cleanup.</summary>
internal sealed class MaintenanceCommands
{
    /// <summary>Apply the schema migrations (or list the pending ones, or print the SQL for a DBA).</summary>
    /// <param name="dryRun">Only list pending migrations (exit 2 when some are pending).</param>
    /// <param name="script">Print the idempotent SQL script instead (psql -1 -f); needs no connection.</param>
    /// <param name="connection">PostgreSQL connection string (default: JOBS_CONNECTION).</param>
    /// <param name="schema">The job schema.</param>
    /// <param name="json">Machine-readable output.</param>
    [Command("migrate")]
    public async Task<int> Migrate(bool dryRun = false, bool script = false, string? connection = null, string schema = "jobs", bool json = false)
    {
        if (script)
        {
            try
            {
                Console.Write(PostgresJobMigrations.GetScript(schema));
                return ExitCodes.Ok;
            }
            catch (ArgumentException ex)
            {
                await Console.Error.WriteLineAsync("error: --schema: " + ex.Message).ConfigureAwait(false);
                return ExitCodes.Usage;
            }
        }

        return await CliRunner.RunAsync(connection, schema, json, async ctx =>
        {
            var names = dryRun
                ? await PostgresJobMigrations.GetPendingAsync(ctx.DataSource, ctx.Schema, ctx.Cancellation).ConfigureAwait(false)
                : await PostgresJobMigrations.ApplyAsync(ctx.DataSource, ctx.Schema, MigrationWaitReport.Default(WriteWaiting), ctx.Cancellation).ConfigureAwait(false);
            if (ctx.Json)
            {
                JsonOut.Write(w =>
                {
                    w.WriteStartObject();
                    w.Strings(dryRun ? "pending" : "applied", names);
                    w.WriteEndObject();
                });
            }
            else if (names.Count == 0)
            {
                Console.WriteLine($"schema '{ctx.Schema}' is up to date.");
            }
            else
            {
                Console.WriteLine((dryRun ? "pending: " : "applied: ") + string.Join(", ", names));
            }

            return dryRun && names.Count > 0 ? ExitCodes.Problem : ExitCodes.Ok;
        }).ConfigureAwait(false);
    }

    /// <summary>A concurrent index build's wait for old transactions, on stderr (stdout keeps the result, --json included).</summary>
    private static void WriteWaiting(ConcurrentIndexWait wait) => Console.Error.WriteLine("waiting: " + wait);

    /// <summary>Delete finished jobs older than the given ages, queue by queue.</summary>
    /// <param name="completed">Delete completed jobs finished longer ago than this (e.g. 7d).</param>
    /// <param name="failed">Delete failed jobs finished longer ago than this (e.g. 30d).</param>
    /// <param name="cancelled">Delete cancelled jobs finished longer ago than this.</param>
    /// <param name="queue">Only this queue (default: every queue).</param>
    /// <param name="dryRun">Delete nothing: say how many jobs each queue would lose.</param>
    /// <param name="connection">PostgreSQL connection string (default: JOBS_CONNECTION).</param>
    /// <param name="schema">The job schema.</param>
    /// <param name="json">Machine-readable output.</param>
    [Command("cleanup")]
    public Task<int> Cleanup(string? completed = null, string? failed = null, string? cancelled = null, string? queue = null, bool dryRun = false,
        string? connection = null, string schema = "jobs", bool json = false)
        => CliRunner.RunAsync(connection, schema, json, async ctx =>
        {
            if (completed is null && failed is null && cancelled is null)
            {
                throw new CliException("cleanup: say what to delete: --completed 7d, --failed 30d and/or --cancelled 7d.");
            }

            QueueOption.Check(queue, "leave --queue out to clean every queue");

            var options = new CleanupOptions
            {
                CompletedJobs = Action(completed, "--completed"),
                FailedJobs = Action(failed, "--failed"),
                CancelledJobs = Action(cancelled, "--cancelled"),
            };
            await ctx.CheckSchemaForDriverAsync().ConfigureAwait(false);
            var queues = queue is not null ? [queue] : (await ctx.Admin.GetQueuesAsync(ctx.Cancellation).ConfigureAwait(false)).Select(q => q.Name).ToArray();
            var table = new Table("QUEUE", dryRun ? "WOULD DELETE" : "DELETED");
            long total = 0;
            var perQueue = new List<(string, long)>();
            foreach (var name in queues)
            {
                await using var driver = new PostgresJobDriver(ctx.DataSource, new PostgresJobDriverOptions
                {
                    Schema = ctx.Schema, QueueName = name, MigrateOnStartup = false, UseListenNotify = false,
                    // One shot: a schema read that fails ends the command (exit 69, 75), as the check before it would; a worker's retries never end.
                    RetrySchemaCheck = false,
                });
                // The rows the cleanup's statements deleted: jobs finishing meanwhile do not lower it (a difference of counts would).
                // A dry run counts the rows those statements would pick, by their own conditions, and deletes none.
                long deleted;
                try
                {
                    deleted = dryRun
                        ? await driver.CountCleanupAsync(options, ctx.Cancellation).ConfigureAwait(false)
                        : await driver.CleanupCountingAsync(options, ctx.Cancellation).ConfigureAwait(false);
                }
                catch (Exception ex) when (!dryRun && (ctx.Cancellation.IsCancellationRequested || ex is NpgsqlException))
                {
                    // Each batch is its own transaction: the one running was rolled back, the ones before it stay deleted.
                    // Stopped by a signal, or by the database (a batch waiting on a lock past the command timeout): say how far it got.
                    var done = perQueue.Count == 0 ? "no queue was finished" : "finished before it: " + string.Join(", ", perQueue.Select(q => $"'{q.Item1}' ({q.Item2} deleted)"));
                    var stopped = $"cleanup stopped in queue '{name}' (the jobs its earlier batches deleted there stay deleted, the rest are kept); {done}.";
                    throw ex is NpgsqlException db && !ctx.Cancellation.IsCancellationRequested
                        ? new CliException($"{stopped} Cause: {DatabaseError.Describe(db, connection, schema)} Run it again to finish.", ex) { ExitCode = DatabaseError.ExitCode(db) }
                        : new CliInterruptedException(stopped + " Run it again to finish.", ex);
                }

                total += deleted;
                perQueue.Add((name, deleted));
                table.Add(name, deleted.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }

            if (ctx.Json)
            {
                JsonOut.Write(w =>
                {
                    w.WriteStartObject();
                    if (dryRun)
                    {
                        w.WriteBoolean("dryRun", true);
                    }

                    w.WriteNumber(dryRun ? "wouldDelete" : "deleted", total);
                    w.WriteStartObject("queues");
                    foreach (var (name, n) in perQueue)
                    {
                        w.WriteNumber(name, n);
                    }

                    w.WriteEndObject();
                    w.WriteEndObject();
                });
            }
            else
            {
                table.WriteTo(Console.Out);
                if (dryRun)
                {
                    Console.WriteLine($"cleanup --dry-run: {total} job(s) would be deleted; nothing was changed.");
                }
            }

            if (total == 0 && queue is not null)
            {
                await UnknownQueue.WarnAsync(ctx, queue, dryRun ? "nothing would be deleted there." : "nothing was deleted there.").ConfigureAwait(false);
            }

            return ExitCodes.Ok;
        });

    private static CleanupAction Action(string? age, string option)
        => age is null ? CleanupAction.DoNothing : CleanupAction.RemoveOlderThan(CliRunner.ParseDuration(age, option));
}
