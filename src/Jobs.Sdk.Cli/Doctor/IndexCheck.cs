using System.Text.RegularExpressions;
using Npgsql;

namespace Jobs.Sdk.Cli;

/// <summary>
/// <c>jobs doctor</c>'s indexes check: the driver's indexes of the jobs table are all there and valid, with each what to do
/// as statements to run. An invalid index whose name ends in <c>_ccnew</c> or <c>_ccold</c> is what an interrupted
/// <c>REINDEX ... CONCURRENTLY</c> left (its unfinished new copy, or the old index it replaced): it is dropped, as
/// PostgreSQL's documentation says; rebuilding it made a second valid copy of the index, which every push, claim and
/// completion then writes, and which is reported too (any valid index with another's definition).
/// </summary>
internal static partial class IndexCheck
{
    private const string Check = "indexes";

    /// <summary>The indexes the driver creates and needs.</summary>
    private static readonly string[] Expected = ["jobs_pkey", "jobs_runnable_idx", "jobs_queue_state_idx", "jobs_admin_list_idx", "jobs_unique_key_idx", "jobs_concurrency_key_idx"];

    public static async Task RunAsync(NpgsqlConnection connection, CliContext ctx, List<DoctorFinding> findings, CancellationToken ct)
    {
        var indexes = new List<(string Name, bool Valid, string Definition)>();
        await using (var cmd = new NpgsqlCommand(DoctorSql.Indexes, connection))
        {
            cmd.Parameters.AddWithValue(ctx.Schema);
            await using var reader = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
            while (await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                indexes.Add((reader.GetString(0), reader.GetBoolean(1), reader.GetString(2)));
            }
        }

        var missing = Expected.Where(e => indexes.All(i => i.Name != e)).ToArray();
        var leftovers = indexes.Where(i => !i.Valid && RebuildLeftover().IsMatch(i.Name)).Select(i => i.Name).ToArray();
        var invalid = indexes.Where(i => !i.Valid && !leftovers.Contains(i.Name)).Select(i => i.Name).ToArray();
        // Valid indexes with the same definition: the driver's one (else the first by name) is kept, the others are copies.
        var copies = indexes.Where(i => i.Valid).GroupBy(i => i.Definition, StringComparer.Ordinal)
            .Select(g => g.OrderBy(i => Expected.Contains(i.Name) ? 0 : 1).ThenBy(i => i.Name, StringComparer.Ordinal).Select(i => i.Name).ToArray())
            .Where(names => names.Length > 1)
            .SelectMany(names => names.Skip(1).Select(copy => (Copy: copy, Of: names[0])))
            .ToArray();
        if (missing.Length > 0)
        {
            findings.Add(new(Check, Verdict.Problem, $"missing on {ctx.QuotedSchema}.jobs: {string.Join(", ", missing)}.",
                "Recreate them from `jobs migrate --script` (the CREATE INDEX statements; use CREATE INDEX CONCURRENTLY on a busy table)."));
        }

        if (invalid.Length > 0)
        {
            findings.Add(new(Check, Verdict.Problem, $"invalid (a failed concurrent build): {string.Join(", ", invalid)}.",
                "Rebuild each: " + Statements("REINDEX INDEX CONCURRENTLY", ctx, invalid)));
        }

        if (leftovers.Length > 0)
        {
            findings.Add(new(Check, Verdict.Problem,
                $"invalid leftovers of an interrupted REINDEX ... CONCURRENTLY (_ccnew: its unfinished new copy; _ccold: the old index it replaced): {string.Join(", ", leftovers)}.",
                "Drop each (do not rebuild it: that makes a second copy of the index, which every write maintains): " +
                Statements("DROP INDEX CONCURRENTLY", ctx, leftovers) + " Then run the REINDEX again if the index still needs it."));
        }

        if (copies.Length > 0)
        {
            findings.Add(new(Check, Verdict.Warning,
                $"second copies (the same definition as another index; every push, claim and completion writes both): {string.Join(", ", copies.Select(c => $"{c.Copy} of {c.Of}"))}.",
                "Drop each copy: " + Statements("DROP INDEX CONCURRENTLY", ctx, copies.Select(c => c.Copy))));
        }

        if (missing.Length == 0 && invalid.Length == 0 && leftovers.Length == 0 && copies.Length == 0)
        {
            findings.Add(new(Check, Verdict.Ok, $"all {Expected.Length} expected indexes present and valid ({indexes.Count} in total)."));
        }
    }

    /// <summary>One statement per index, to copy and run: <c>{verb} "schema"."index";</c>.</summary>
    private static string Statements(string verb, CliContext ctx, IEnumerable<string> indexes)
        => string.Join(" ", indexes.Select(i => $"{verb} {ctx.QuotedSchema}.\"{i.Replace("\"", "\"\"", StringComparison.Ordinal)}\";"));

    /// <summary>The names <c>REINDEX ... CONCURRENTLY</c> gives its transient indexes: <c>{index}_ccnew</c>, <c>_ccold</c>, with a number when taken.</summary>
    [GeneratedRegex("_cc(?:new|old)[0-9]*$", RegexOptions.CultureInvariant)]
    private static partial Regex RebuildLeftover();
}
