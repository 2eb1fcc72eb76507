using System.Globalization;
using Npgsql;

namespace Jobs.Sdk.Cli;

/// <summary>
/// <c>jobs doctor</c>'s table bloat check: dead rows, sizes and last vacuum of the jobs table, and of each other table of the
/// job schema whose dead rows reach a verdict (the per-state counts' deltas, compacted by deletes; the workers' heartbeats;
/// schedule entries and fires; the audit log): a vacuum held back leaves them for every status page and count to read.
/// </summary>
internal static class BloatCheck
{
    private const string Check = "table bloat";
    private const string JobsTable = "jobs";

    public static async Task RunAsync(NpgsqlConnection connection, CliContext ctx, List<DoctorFinding> findings, CancellationToken ct)
    {
        var tables = new List<(string Name, long Live, long Dead, long TableBytes, long IndexBytes, DateTimeOffset? Vacuumed)>();
        await using (var cmd = new NpgsqlCommand(DoctorSql.TableStats, connection))
        {
            cmd.Parameters.AddWithValue(ctx.Schema);
            await using var reader = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
            while (await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                tables.Add((reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4),
                    reader.IsDBNull(5) ? null : reader.GetFieldValue<DateTimeOffset>(5)));
            }
        }

        if (tables.FirstOrDefault(t => t.Name == JobsTable) is not { Name: not null } jobs)
        {
            return;
        }

        var others = tables.Where(t => t.Name != JobsTable && VerdictOf(t.Live, t.Dead) != Verdict.Ok).ToArray();
        var detail = Describe(jobs.Live, jobs.Dead) + $"; table {Mb(jobs.TableBytes)}, indexes {Mb(jobs.IndexBytes)}; last vacuum {Table.Time(jobs.Vacuumed)}.";
        if (others.Length > 0)
        {
            detail = $"{JobsTable}: {detail} " + string.Join(" ", others.Select(t => $"{t.Name}: {Describe(t.Live, t.Dead)}; last vacuum {Table.Time(t.Vacuumed)}."));
        }

        var bloated = (VerdictOf(jobs.Live, jobs.Dead) == Verdict.Ok ? [] : new[] { jobs }).Concat(others).ToArray();
        var verdict = bloated.Length == 0 ? Verdict.Ok : bloated.Max(t => VerdictOf(t.Live, t.Dead));
        findings.Add(new(Check, verdict, detail, verdict == Verdict.Ok ? null :
            $"Run {string.Join(" ", bloated.Select(t => $"VACUUM (ANALYZE) {ctx.QuotedSchema}.{t.Name};"))} if it keeps coming back, lower autovacuum_vacuum_scale_factor " +
            "for the table and look for long transactions (below). Index bloat after a backlog: REINDEX TABLE CONCURRENTLY."));
    }

    private static Verdict VerdictOf(long live, long dead)
    {
        var ratio = Ratio(live, dead);
        return dead > 100_000 && ratio > 0.5 ? Verdict.Problem : dead > 10_000 && ratio > 0.2 ? Verdict.Warning : Verdict.Ok;
    }

    private static double Ratio(long live, long dead) => live + dead == 0 ? 0 : (double)dead / (live + dead);

    private static string Describe(long live, long dead)
        => string.Create(CultureInfo.InvariantCulture, $"{live} live and {dead} dead rows ({Ratio(live, dead):P0} dead, estimate from statistics)");

    private static string Mb(long bytes) => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1048576.0:0.0} MB");
}
