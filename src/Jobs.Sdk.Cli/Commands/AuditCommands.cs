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
                return CliContext.ExitOk;
            }

            var table = new Table("AT", "ACTOR", "ACTION", "TARGET", "ROWS", "REASON");
            foreach (var e in entries)
            {
                table.Add(Table.Time(e.At), e.Actor ?? "-", e.Action, e.Target, e.RowsChanged.ToString(System.Globalization.CultureInfo.InvariantCulture), e.Reason ?? "-");
            }

            table.WriteTo(Console.Out);
            Console.WriteLine(table.Count < limit ? $"({table.Count} entries)" : $"({table.Count} entries; older ones: --limit {Math.Min(limit * 2, 10_000)})");
            return CliContext.ExitOk;
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
            await using var driver = new PostgresJobDriver(ctx.DataSource, new PostgresJobDriverOptions
            {
                Schema = ctx.Schema, MigrateOnStartup = false, UseListenNotify = false,
            });
            var deleted = await driver.PruneAuditLogAsync(age, ctx.Cancellation).ConfigureAwait(false);
            var ageText = CliRunner.FormatDuration(age);
            var audit = CliContext.Audit(actor, reason);
            await new PostgresJobAdminStore(ctx.DataSource, ctx.Schema).AppendAuditAsync(new AuditEntry
            {
                At = DateTimeOffset.UtcNow, // the store records its own time
                Actor = audit.Actor,
                Action = "audit.prune",
                Target = "older than " + ageText,
                Reason = audit.Reason,
                RowsChanged = (int)Math.Min(deleted, int.MaxValue),
            }, CancellationToken.None).ConfigureAwait(false);
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

            return CliContext.ExitOk;
        });
}
