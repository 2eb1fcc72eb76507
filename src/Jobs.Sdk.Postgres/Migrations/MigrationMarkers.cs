using System.Text.RegularExpressions;

namespace Jobs.Sdk.Postgres;

/// <summary>
/// Reads the markers a migration script may carry: <c>-- jobs:compatible-from &lt;name&gt;</c> (the oldest code version
/// that runs against it) and <c>-- jobs:no-transaction</c> (statements run one by one outside a transaction).
/// </summary>
internal static partial class MigrationMarkers
{
    private const string CompatibleFrom = "-- jobs:compatible-from ";
    private const string NoTransaction = "-- jobs:no-transaction";

    public static PostgresMigration Build(int version, string name, string sql, IReadOnlyList<(string Name, string Sql)> all)
    {
        var compatibleFrom = version;
        var transactional = true;
        foreach (var raw in sql.Split('\n'))
        {
            var line = raw.Trim();
            if (line.StartsWith(CompatibleFrom, StringComparison.Ordinal))
            {
                var target = line[CompatibleFrom.Length..].Trim();
                var index = -1;
                for (var i = 0; i < all.Count; i++)
                {
                    if (all[i].Name == target)
                    {
                        index = i;
                    }
                }

                if (index < 0 || index + 1 > version)
                {
                    throw new InvalidOperationException($"Migration {name} declares compatibility from '{target}', which is not an earlier migration.");
                }

                compatibleFrom = index + 1;
            }
            else if (line.StartsWith(NoTransaction, StringComparison.Ordinal))
            {
                transactional = false;
            }
        }

        return new PostgresMigration(version, name, sql) { CompatibleFrom = compatibleFrom, RunsInTransaction = transactional };
    }

    [GeneratedRegex(@"^\s*CREATE\s+(?:UNIQUE\s+)?INDEX\s+CONCURRENTLY\s+IF\s+NOT\s+EXISTS\s+(""[^""]+""|[A-Za-z_][A-Za-z0-9_$]*)\s",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex ConcurrentIndexRegex();

    /// <summary>
    /// The index a <c>CREATE INDEX CONCURRENTLY IF NOT EXISTS</c> statement builds, as written (quoted or not), or
    /// <see langword="null"/> for any other statement.
    /// </summary>
    public static string? ConcurrentIndexName(string statement)
    {
        var match = ConcurrentIndexRegex().Match(statement);
        return match.Success ? match.Groups[1].Value : null;
    }

    /// <summary>The statements of a no-transaction step: split at lines ending with <c>;</c> (comments dropped).</summary>
    public static IEnumerable<string> Statements(string sql)
    {
        var current = new System.Text.StringBuilder();
        foreach (var raw in sql.Split('\n'))
        {
            var line = raw.TrimEnd();
            if (line.TrimStart().StartsWith("--", StringComparison.Ordinal))
            {
                continue;
            }

            current.AppendLine(line);
            if (line.EndsWith(';'))
            {
                yield return current.ToString();
                current.Clear();
            }
        }

        if (current.ToString().Trim().Length > 0)
        {
            yield return current.ToString();
        }
    }
}
