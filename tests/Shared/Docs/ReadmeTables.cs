using System.Globalization;
using System.Reflection;
using System.Text.RegularExpressions;

namespace Jobs.Sdk.Testing;

/// <summary>
/// Reads the reference tables of the READMEs (options with their defaults, metrics, log events) so that tests can compare
/// them with the code: an operator acts on these tables, so a setting, default or event id that drifts from the code is
/// a bug in the documentation that a test must catch, not a reader.
/// </summary>
public static partial class ReadmeTables
{
    /// <summary>The repository root (the folder holding Jobs.Sdk.sln), found above the test binaries.</summary>
    public static string RepoRoot()
    {
        // Walk up from the test binaries (CI builds may map source paths, so CallerFilePath is not used).
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Jobs.Sdk.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"Jobs.Sdk.sln not found above {AppContext.BaseDirectory}.");
    }

    /// <summary>The text of a file under the repository root (<c>README.md</c>, <c>src/Jobs.Sdk.Dashboard/README.md</c>).</summary>
    public static string Read(string relativePath) => File.ReadAllText(Path.Combine(RepoRoot(), relativePath));

    /// <summary>
    /// The body rows (cells trimmed, backticks kept) of the one Markdown table whose header's first cell is
    /// <paramref name="firstHeaderCell"/> (compared without backticks).
    /// </summary>
    public static IReadOnlyList<string[]> Rows(string markdown, string firstHeaderCell)
    {
        var lines = markdown.Split('\n').Select(l => l.TrimEnd('\r')).ToArray();
        var starts = Enumerable.Range(0, lines.Length - 1)
            .Where(i => IsRow(lines[i]) && Unquote(Cells(lines[i])[0]) == firstHeaderCell && IsSeparator(lines[i + 1])).ToArray();
        if (starts.Length != 1)
        {
            throw new InvalidOperationException($"Expected one table headed '{firstHeaderCell}', found {starts.Length}.");
        }

        return lines.Skip(starts[0] + 2).TakeWhile(IsRow).Select(Cells).ToArray();
    }

    /// <summary>Whether <paramref name="markdown"/> has a table whose header's first cell is <paramref name="firstHeaderCell"/>.</summary>
    public static bool HasTable(string markdown, string firstHeaderCell)
    {
        var lines = markdown.Split('\n').Select(l => l.TrimEnd('\r')).ToArray();
        return Enumerable.Range(0, lines.Length - 1)
            .Any(i => IsRow(lines[i]) && Unquote(Cells(lines[i])[0]) == firstHeaderCell && IsSeparator(lines[i + 1]));
    }

    /// <summary>
    /// Differences between an options table (first column the property, second its default) and the public settable
    /// properties of <paramref name="options"/>'s type with their values in that fresh instance: missing or unknown rows, and
    /// defaults whose text says another value. A default of a type with no short text form (a policy, a strategy) or a
    /// <see langword="null"/> one may be described in words; a number, duration, size, flag or text must say the value.
    /// </summary>
    public static IReadOnlyList<string> CompareOptions(string markdown, object options)
    {
        var type = options.GetType();
        var problems = new List<string>();
        if (!HasTable(markdown, type.Name))
        {
            problems.Add($"There is no table headed `{type.Name}` (its settings: {string.Join(", ", type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.GetSetMethod() is not null).Select(p => p.Name))}).");
            return problems;
        }

        var rows = Rows(markdown, type.Name);
        var properties = type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.GetSetMethod() is not null).ToDictionary(p => p.Name);
        var documented = rows.Select(r => Unquote(r[0])).ToArray();
        problems.AddRange(properties.Keys.Except(documented).Order(StringComparer.Ordinal)
            .Select(p => $"{type.Name}.{p} (default {Describe(properties[p].GetValue(options))}) has no row in the table."));
        problems.AddRange(documented.Except(properties.Keys).Select(p => $"{type.Name} has no settable property '{p}', but the table lists it."));
        foreach (var row in rows.Where(r => properties.ContainsKey(Unquote(r[0]))))
        {
            var property = properties[Unquote(row[0])];
            var actual = property.GetValue(options);
            if (!DefaultMatches(row[1], actual, property.PropertyType))
            {
                problems.Add($"{type.Name}.{property.Name}: the table says the default is '{row[1]}', the code's is {Describe(actual)}.");
            }
        }

        return problems;
    }

    /// <summary>Every <c>[LoggerMessage]</c> under <c>src/</c>: event id, level name and the file that declares it.</summary>
    public static IReadOnlyList<(int Id, string Level, string File)> LoggerMessages()
    {
        var src = Path.Combine(RepoRoot(), "src");
        var found = new List<(int, string, string)>();
        foreach (var file in Directory.EnumerateFiles(src, "*.cs", SearchOption.AllDirectories)
                     .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                         && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal)))
        {
            var text = File.ReadAllText(file);
            foreach (Match m in LoggerMessagePattern().Matches(text))
            {
                var args = m.Groups["args"].Value;
                var named = NamedEventId().Match(args);
                var id = named.Success ? named.Groups[1].Value : PositionalEventId().Match(args).Groups[1].Value;
                var level = LevelPattern().Match(args).Groups[1].Value;
                found.Add((int.Parse(id, CultureInfo.InvariantCulture), level, Path.GetRelativePath(RepoRoot(), file)));
            }
        }

        return found;
    }

    private static bool DefaultMatches(string cell, object? actual, Type type)
    {
        var text = Unquote(cell);
        var underlying = Nullable.GetUnderlyingType(type) ?? type;
        if (actual is null)
        {
            // Unset: "none", or words ("the worker's"), never a concrete value.
            return text.StartsWith("none", StringComparison.Ordinal) || (text.Length > 0 && ParseValue(text, underlying) is null);
        }

        if (underlying.IsEnum)
        {
            // `Retain.No` or `No`.
            return text[(text.LastIndexOf('.') + 1)..] == actual.ToString();
        }

        if (!(underlying.IsPrimitive || underlying == typeof(string) || underlying == typeof(TimeSpan)))
        {
            // A policy or a strategy is described in words ("keep failed only"): they must not claim a plain value instead.
            return text.Length > 0 && ParseValue(text, typeof(double)) is null;
        }

        return Equals(ParseValue(text, underlying), actual);
    }

    /// <summary>A default's text as a value of <paramref name="type"/>: <c>16</c>, <c>2,000</c>, <c>30 s</c>, <c>5 min</c>, <c>90 days</c>, <c>16 MiB</c>, <c>true</c>, <c>"jobs"</c>.</summary>
    private static object? ParseValue(string text, Type type)
    {
        if (type == typeof(bool))
        {
            return text switch { "true" => true, "false" => false, _ => null };
        }

        if (type == typeof(string))
        {
            return text.Length > 0 && !text.Contains(' ', StringComparison.Ordinal) ? text.Trim('"') : null;
        }

        var m = QuantityPattern().Match(text);
        if (!m.Success)
        {
            return null;
        }

        var n = double.Parse(m.Groups["n"].Value.Replace(",", "", StringComparison.Ordinal), CultureInfo.InvariantCulture);
        var unit = m.Groups["unit"].Value;
        if (type == typeof(TimeSpan))
        {
            return unit switch
            {
                "ms" => TimeSpan.FromMilliseconds(n),
                "s" => TimeSpan.FromSeconds(n),
                "min" => TimeSpan.FromMinutes(n),
                "h" => TimeSpan.FromHours(n),
                "days" => TimeSpan.FromDays(n),
                _ => null,
            };
        }

        var scaled = unit switch { "" => n, "KiB" => n * 1024, "MiB" => n * 1024 * 1024, _ => double.NaN };
        return double.IsNaN(scaled) ? null : Convert.ChangeType(scaled, type, CultureInfo.InvariantCulture);
    }

    private static string Describe(object? value) => value switch
    {
        null => "null",
        string s => $"\"{s}\"",
        bool b => b ? "true" : "false",
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? value.GetType().Name,
    };

    private static bool IsRow(string line) => line.TrimStart().StartsWith('|');

    private static bool IsSeparator(string line) => IsRow(line) && line.Contains('-', StringComparison.Ordinal) && line.All(c => c is '|' or '-' or ':' or ' ');

    private static string[] Cells(string line)
        => line.Trim().Trim('|').Split('|').Select(c => c.Trim()).ToArray();

    private static string Unquote(string cell) => cell.Replace("`", "", StringComparison.Ordinal).Trim();

    [GeneratedRegex(@"\[LoggerMessage\((?<args>[^\]]*)\)\]", RegexOptions.Singleline)]
    private static partial Regex LoggerMessagePattern();

    [GeneratedRegex(@"EventId\s*=\s*(\d+)")]
    private static partial Regex NamedEventId();

    [GeneratedRegex(@"^\s*(\d+)\s*,")]
    private static partial Regex PositionalEventId();

    [GeneratedRegex(@"LogLevel\.(\w+)")]
    private static partial Regex LevelPattern();

    [GeneratedRegex(@"^(?<n>\d[\d,]*(\.\d+)?)\s*(?<unit>ms|s|min|h|days|KiB|MiB)?$")]
    private static partial Regex QuantityPattern();
}
