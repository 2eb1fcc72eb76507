using ConsoleAppFramework;
using Jobs.Sdk.Postgres;

namespace Jobs.Sdk.Cli;

/// <summary>audit, audit prune.</summary>
internal sealed class AuditCommands
{
    /// <summary>The audit log, newest first: every action of this tool, the dashboard and JobAdmin, with who did it, why, and the rows it changed.</summary>
    /// <param name="limit">How many entries (1-10000).</param>
    /// <param name="connection">PostgreSQL connection string (default: JOBS_CONNECTION).</param>
    /// <param name="schema">The job schema.</param>
    /// <param name="json">Machine-readable output.</param>
    [Command("audit")]
    public Task<int> Audit(int limit = 50, string? connection = null, string schema = "jobs", bool json = false)
        => CliRunner.RunAsync(connection, schema, json, async ctx =>
        {
            if (limit is < 1 or > 10_000)
            {
                throw new CliException($"--limit: {limit} is out of range; use 1 to 10000.");
            }

            var entries = await ctx.Admin.GetAuditLogAsync(limit, ctx.Cancellation).ConfigureAwait(false);
            if (ctx.Json)
            {
                JsonOut.Write(w =>
                {
                    w.WriteStartArray();
                    foreach (var e in entries)
                    {
                        w.WriteStartObject();
                        w.WriteNumber("id", e.Id);
                        w.Time("at", e.At);
                        w.Text("actor", e.Actor);
                        w.WriteString("action", e.Action);
                        w.WriteString("target", e.Target);
                        w.Text("reason", e.Reason);
                        w.WriteNumber("rowsChanged", e.RowsChanged);
                        w.WriteEndObject();
                    }

                    w.WriteEndArray();
                });
                return ExitCodes.Ok;
            }

            var table = new Table("AT", "ACTOR", "ACTION", "TARGET", "ROWS", "REASON");
            foreach (var e in entries)
            {
                table.Add(Table.Time(e.At), e.Actor ?? "-", e.Action, e.Target, e.RowsChanged.ToString(System.Globalization.CultureInfo.InvariantCulture), e.Reason ?? "-");
            }

            table.WriteTo(Console.Out);
            Console.WriteLine(table.Count < limit ? $"({table.Count} entries)" : $"({table.Count} entries; older ones: --limit {Math.Min(limit * 2, 10_000)})");
            return ExitCodes.Ok;
        });

    /// <summary>
    /// Delete the audit log's entries older than an age, as each worker's rescue pass does with the retention: for a store
    /// no worker serves, or whose worker role may not delete from the log. Recorded in the log itself.
    /// </summary>
    /// <param name="olderThan">Delete entries recorded longer ago than this (e.g. 90d; default: the retention's 90 days).</param>
    /// <param name="actor">Who prunes (default: cli:user@host).</param>
    /// <param name="reason">Why (recorded in the audit log).</param>
    /// <param name="connection">PostgreSQL connection string (default: JOBS_CONNECTION).</param>
    /// <param name="schema">The job schema.</param>
    /// <param name="json">Machine-readable output.</param>
    [Command("audit prune")]
    public Task<int> Prune(string? olderThan = null, string? actor = null, string? reason = null, string? connection = null,
        string schema = "jobs", bool json = false)
        => CliRunner.RunAsync(connection, schema, json, async ctx =>
        {
            var age = olderThan is null ? new RetentionPolicy().AuditLog : CliRunner.ParseDuration(olderThan, "--older-than");
            var audit = CliContext.Audit(actor, reason);
            PostgresJobAdmin.CheckAudit(audit); // refused as every other action's is, before it deletes anything
            await ctx.CheckSchemaForDriverAsync().ConfigureAwait(false);
            await using var driver = new PostgresJobDriver(ctx.DataSource, new PostgresJobDriverOptions
            {
                Schema = ctx.Schema, MigrateOnStartup = false, UseListenNotify = false,
                // One shot: a schema read that fails ends the command (exit 69, 75), as the check before it would; a worker's retries never end.
                RetrySchemaCheck = false,
            });
            var ageText = CliRunner.FormatDuration(age);
            long deleted = 0;
            try
            {
                await driver.PruneAuditLogAsync(age, n => deleted += n, ctx.Cancellation).ConfigureAwait(false);
            }
            catch (Exception ex) when (deleted > 0)
            {
                // Each batch is its own transaction: the one running was rolled back, the ones before it stay deleted. The
                // log records those, as a bulk action's committed batches are ("... (failed part-way)").
                var recorded = await TryRecordPruneAsync(ctx, audit, "audit.prune (failed part-way)", ageText, deleted).ConfigureAwait(false);
                var done = $"audit prune stopped after deleting {deleted} audit log entries older than {ageText} "
                    + (recorded ? "(recorded in the audit log as 'audit.prune (failed part-way)')" : "(recording them in the audit log failed too)")
                    + "; the batch that was running was rolled back.";
                throw ctx.Cancellation.IsCancellationRequested
                    ? new CliInterruptedException(done + " Run it again for the rest.", ex)
                    : ex is Npgsql.NpgsqlException db
                        ? new CliException($"{done} {DatabaseError.Describe(db, connection, schema)}", ex) { ExitCode = DatabaseError.ExitCode(db) }
                        : new CliException($"{done} {ex.Message}", ex) { ExitCode = ExitCodes.Failed };
            }

            await RecordPruneAsync(ctx, audit, "audit.prune", ageText, deleted).ConfigureAwait(false);
            if (ctx.Json)
            {
                JsonOut.Write(w =>
                {
                    w.WriteStartObject();
                    w.WriteNumber("deleted", deleted);
                    w.WriteString("olderThan", ageText);
                    w.WriteEndObject();
                });
            }
            else
            {
                Console.WriteLine($"deleted {deleted} audit log entries older than {ageText}.");
            }

            return ExitCodes.Ok;
        });

    /// <summary>Records a prune of the entries older than <paramref name="ageText"/> that deleted <paramref name="deleted"/> of them.</summary>
    private static Task RecordPruneAsync(CliContext ctx, AuditInfo audit, string action, string ageText, long deleted)
        => new PostgresJobAdminStore(ctx.DataSource, ctx.Schema).AppendAuditAsync(new AuditEntry
        {
            At = DateTimeOffset.UtcNow, // the store records its own time
            Actor = audit.Actor,
            Action = action,
            Target = "older than " + ageText,
            Reason = audit.Reason,
            RowsChanged = (int)Math.Min(deleted, int.MaxValue),
        }, CancellationToken.None);

    /// <summary><see cref="RecordPruneAsync"/> after a failure: whether the entry was written (the store may be gone too).</summary>
    private static async Task<bool> TryRecordPruneAsync(CliContext ctx, AuditInfo audit, string action, string ageText, long deleted)
    {
        try
        {
            await RecordPruneAsync(ctx, audit, action, ageText, deleted).ConfigureAwait(false);
            return true;
        }
#pragma warning disable CA1031 // the prune's own failure is what the operator must see; this one only changes its wording
        catch (Exception)
#pragma warning restore CA1031
        {
            return false;
        }
    }
}
