using System.Text.RegularExpressions;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// Every <c>```csharp</c> block of README.md and of the package readmes (<c>src/*/README.md</c>) is compiled: it appears
/// verbatim (line endings normalised, common indentation trimmed) inside a <c>#region readme-…</c> of a source file this
/// project or the dashboard's test project compiles, so a renamed member, a wrong overload or a missing <c>using</c> in
/// a snippet fails the build, and a snippet edited without its region fails here. A block that opens with
/// <c>using</c> lines is compiled in a file with exactly those usings, outside the <c>Jobs.Sdk</c> namespaces (which
/// would make them moot). A block that cannot compile is listed in <see cref="NotCompiled"/> with the reason.
/// </summary>
public sealed partial class ReadmeCodeBlockTests
{
    /// <summary>The blocks deliberately not compiled, by readme and first line, with the reason.</summary>
    private static readonly (string Readme, string FirstLine, string Reason)[] NotCompiled = [];

    /// <summary>The test projects whose sources hold the regions (each compiles every .cs file under its folder).</summary>
    private static readonly string[] CompiledFolders = [Path.Combine("tests", "Jobs.Sdk.Postgres.Tests"), Path.Combine("tests", "Jobs.Sdk.Dashboard.Tests")];

    [Fact]
    public void Every_csharp_block_of_the_readmes_is_compiled_in_a_readme_region()
    {
        var root = ReadmeTables.RepoRoot();
        var regions = Regions(root);
        var blocks = Readmes(root).SelectMany(r => Blocks(r, ReadmeTables.Read(r))).ToArray();
        var problems = new List<string>();
        var matched = new HashSet<Region>();
        var excused = new HashSet<string>();

        foreach (var block in blocks)
        {
            var where = $"{block.Readme} block {block.Index} (line {block.Line}, `{block.Code.Split('\n')[0]}`)";
            var exception = NotCompiled.FirstOrDefault(n => n.Readme == block.Readme && block.Code.Split('\n')[0] == n.FirstLine);
            if (exception.Reason is not null)
            {
                excused.Add(exception.Readme + ": " + exception.FirstLine);
                continue;
            }

            var found = regions.Where(r => r.Code == block.Code).ToArray();
            matched.UnionWith(found);
            if (found.Length == 0)
            {
                problems.Add($"{where}: no #region readme-… under {string.Join(" or ", CompiledFolders)} holds this code{Nearest(block, regions)}; "
                    + "compile it there verbatim (its free variables declared outside the region), or list it in NotCompiled with the reason.");
                continue;
            }

            problems.AddRange(found.Where(r => r.TypesBeforeStatements)
                .Select(r => $"{where}: declares types before its statements, so pasted into a Program.cs it fails with CS8803 (top-level "
                    + $"statements must precede namespace and type declarations): show the statements first, then the types (and so in {r.File})."));

            if (block.Usings.Count > 0)
            {
                problems.AddRange(found.Where(r => !r.Usings.SetEquals(block.Usings) || r.Namespace.StartsWith("Jobs.Sdk", StringComparison.Ordinal))
                    .Select(r => $"{where}: shows the usings [{string.Join(", ", block.Usings.Order())}], but {r.File} (namespace {r.Namespace}) "
                        + $"compiles #region {r.Name} with [{string.Join(", ", r.Usings.Order())}]: the block must compile with its own usings, outside the Jobs.Sdk namespaces."));
            }
        }

        problems.AddRange(regions.Where(r => !matched.Contains(r))
            .Select(r => $"{r.File}: #region {r.Name} is no readme block's code (the readme changed?): update it to the block it compiles, or delete it."));
        problems.AddRange(NotCompiled.Where(n => !excused.Contains(n.Readme + ": " + n.FirstLine))
            .Select(n => $"NotCompiled lists {n.Readme}'s block starting `{n.FirstLine}`, which is no longer there."));

        Assert.True(blocks.Length >= 20, $"{blocks.Length} csharp blocks found in the readmes.");
        Assert.True(problems.Count == 0, $"{problems.Count} readme code problem(s):\n" + string.Join('\n', problems));
    }

    private static IEnumerable<string> Readmes(string root)
        => new[] { "README.md" }.Concat(Directory.GetDirectories(Path.Combine(root, "src"))
            .Where(d => File.Exists(Path.Combine(d, "README.md")))
            .Select(d => Path.GetRelativePath(root, Path.Combine(d, "README.md")).Replace('\\', '/'))
            .Order(StringComparer.Ordinal));

    private static IEnumerable<Block> Blocks(string readme, string markdown)
    {
        var lines = markdown.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        var index = 0;
        for (var i = 0; i < lines.Length; i++)
        {
            if (lines[i].TrimEnd() != "```csharp")
            {
                continue;
            }

            var start = i + 1;
            var end = Array.FindIndex(lines, start, l => l.TrimEnd() == "```");
            var body = lines[start..end];
            var usings = body.TakeWhile(l => UsingPattern().IsMatch(l) || l.Trim().Length == 0)
                .Where(l => l.Trim().Length > 0).Select(l => UsingPattern().Match(l).Groups[1].Value).ToHashSet(StringComparer.Ordinal);
            var code = body.SkipWhile(l => UsingPattern().IsMatch(l) || l.Trim().Length == 0);
            yield return new Block(readme, ++index, i + 1, Normalize(code), usings);
            i = end;
        }
    }

    private static List<Region> Regions(string root)
    {
        var regions = new List<Region>();
        foreach (var folder in CompiledFolders)
        {
            foreach (var file in Directory.EnumerateFiles(Path.Combine(root, folder), "*.cs", SearchOption.AllDirectories)
                .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                    && !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)))
            {
                var text = File.ReadAllText(file).Replace("\r\n", "\n", StringComparison.Ordinal);
                var usings = text.Split('\n').Where(l => UsingPattern().IsMatch(l)).Select(l => UsingPattern().Match(l).Groups[1].Value).ToHashSet(StringComparer.Ordinal);
                var ns = NamespacePattern().Match(text).Groups[1].Value;
                // A region may come in parts (statements in a method, then the types they use at namespace level): its parts, in order,
                // are one block, a blank line between them.
                var parts = RegionPattern().Matches(text).GroupBy(m => m.Groups[1].Value, StringComparer.Ordinal);
                regions.AddRange(parts.Select(g => new Region(Path.GetRelativePath(root, file).Replace('\\', '/'), g.Key,
                    string.Join("\n\n", g.Select(m => Normalize(m.Groups[2].Value.Split('\n')))), usings, ns,
                    TypesBeforeStatements(g.Select(m => !m.Value.StartsWith('#'))))));
            }
        }

        return regions;
    }

    /// <summary>
    /// Whether a region's parts put a namespace-level part (its <c>#region</c> at the start of the line: types) before an
    /// indented one (statements in a method): pasted into a <c>Program.cs</c>, such a block fails with CS8803 (top-level
    /// statements must precede namespace and type declarations).
    /// </summary>
    private static bool TypesBeforeStatements(IEnumerable<bool> indented)
    {
        var typesSeen = false;
        foreach (var part in indented)
        {
            if (!part)
            {
                typesSeen = true;
            }
            else if (typesSeen)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Trailing spaces and the blank lines around cut, the indentation all lines share removed.</summary>
    private static string Normalize(IEnumerable<string> code)
    {
        var lines = code.Select(l => l.TrimEnd()).SkipWhile(l => l.Length == 0).Reverse().SkipWhile(l => l.Length == 0).Reverse().ToArray();
        var indent = lines.Where(l => l.Length > 0).Select(l => l.Length - l.TrimStart().Length).DefaultIfEmpty(0).Min();
        return string.Join('\n', lines.Select(l => l.Length == 0 ? l : l[indent..]));
    }

    /// <summary>Where the region starting like the block first differs from it, when one does.</summary>
    private static string Nearest(Block block, List<Region> regions)
    {
        var blockLines = block.Code.Split('\n');
        var near = regions.FirstOrDefault(r => r.Code.Split('\n')[0] == blockLines[0]);
        if (near is null)
        {
            return "";
        }

        var regionLines = near.Code.Split('\n');
        var at = Enumerable.Range(0, Math.Max(blockLines.Length, regionLines.Length))
            .First(i => i >= blockLines.Length || i >= regionLines.Length || blockLines[i] != regionLines[i]);
        return $" (#region {near.Name} in {near.File} starts alike; its line {at + 1} is `{(at < regionLines.Length ? regionLines[at].Trim() : "")}`, "
            + $"the block's `{(at < blockLines.Length ? blockLines[at].Trim() : "")}`)";
    }

    private sealed record Block(string Readme, int Index, int Line, string Code, HashSet<string> Usings);

    private sealed record Region(string File, string Name, string Code, HashSet<string> Usings, string Namespace, bool TypesBeforeStatements);

    [GeneratedRegex(@"^using ([\w.]+);\s*$")]
    private static partial Regex UsingPattern();

    [GeneratedRegex(@"^namespace ([\w.]+)", RegexOptions.Multiline)]
    private static partial Regex NamespacePattern();

    [GeneratedRegex(@"^[ \t]*#region (readme-[\w-]+)[ \t]*\n(.*?)\n[ \t]*#endregion", RegexOptions.Singleline | RegexOptions.Multiline)]
    private static partial Regex RegionPattern();
}
