using ConsoleAppFramework;

namespace Jobs.Sdk.Cli;

/// <summary>audit.</summary>
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

            var entries = await ctx.Admin.GetAuditLogAsync(limit).ConfigureAwait(false);
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
}
