using ConsoleAppFramework;

namespace Jobs.Sdk.Cli;

/// <summary>doctor.</summary>
internal sealed class DoctorCommands
{
    /// <summary>
    /// Check the job store: schema version, indexes, bloat, long transactions holding back vacuum, expired leases, jobs no live
    /// worker handles, LISTEN/NOTIFY queue usage. Exit 2 when a problem is found.
    /// </summary>
    /// <param name="longTransaction">An open transaction older than this is a problem (default 5m).</param>
    /// <param name="connection">PostgreSQL connection string (default: JOBS_CONNECTION).</param>
    /// <param name="schema">The job schema.</param>
    /// <param name="json">Machine-readable output.</param>
    [Command("doctor")]
    public Task<int> Run(string longTransaction = "5m", string? connection = null, string schema = "jobs", bool json = false)
        => CliRunner.RunAsync(connection, schema, json, async ctx =>
        {
            var findings = await Doctor.RunAsync(ctx, CliRunner.ParseDuration(longTransaction, "--long-transaction"), ctx.Cancellation).ConfigureAwait(false);
            var worst = findings.Count == 0 ? Verdict.Ok : findings.Max(f => f.Verdict);
            if (ctx.Json)
            {
                JsonOut.Write(w =>
                {
                    w.WriteStartObject();
                    w.WriteString("verdict", worst.ToString().ToLowerInvariant());
                    w.WriteStartArray("checks");
                    foreach (var f in findings)
                    {
                        w.WriteStartObject();
                        w.WriteString("check", f.Check);
                        w.WriteString("verdict", f.Verdict.ToString().ToLowerInvariant());
                        w.WriteString("detail", f.Detail);
                        w.Text("advice", f.Advice);
                        w.WriteEndObject();
                    }

                    w.WriteEndArray();
                    w.WriteEndObject();
                });
            }
            else
            {
                foreach (var f in findings)
                {
                    var mark = f.Verdict switch { Verdict.Ok => "ok     ", Verdict.Warning => "WARN   ", _ => "PROBLEM" };
                    Console.WriteLine($"{mark} {f.Check}: {f.Detail}");
                    if (f.Advice is not null)
                    {
                        Console.WriteLine($"        what to do: {f.Advice}");
                    }
                }

                Console.WriteLine(worst == Verdict.Problem ? "doctor: problems found." : worst == Verdict.Warning ? "doctor: healthy, with warnings." : "doctor: healthy.");
            }

            return worst == Verdict.Problem ? ExitCodes.Problem : ExitCodes.Ok;
        });
}
