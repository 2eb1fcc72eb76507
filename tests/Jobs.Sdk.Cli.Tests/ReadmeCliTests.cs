using System.Text.RegularExpressions;

namespace Jobs.Sdk.Cli.Tests;

/// <summary>
/// The <c>jobs</c> command lines of README.md and src/Jobs.Sdk.Cli/README.md against the real tool's help: every command
/// they show exists and takes every option they give it, and the tool's README shows every command the tool has.
/// </summary>
public sealed partial class ReadmeCliTests
{
    [Fact]
    public async Task Every_documented_command_line_names_a_real_command_and_its_real_options()
    {
        // The command list, before the options every command takes (listed after it, indented alike).
        var commandList = (await JobsTool.RunAsync(null, "--help")).Out.Split("\nOptions of every command")[0];
        var commands = CommandPattern().Matches(commandList).Select(m => m.Groups[1].Value).ToHashSet();
        Assert.Contains("schedules pause", commands);
        var options = new Dictionary<string, string>();
        var problems = new List<string>();
        foreach (var readme in new[] { "README.md", Path.Combine("src", "Jobs.Sdk.Cli", "README.md") })
        {
            foreach (var line in CommandLines(File.ReadAllText(Path.Combine(Root(), readme))))
            {
                var words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                var command = words.Length > 2 && commands.Contains(words[1] + " " + words[2]) ? words[1] + " " + words[2] : words[1];
                if (!commands.Contains(command))
                {
                    problems.Add($"{readme}: `{line}`: no command '{command}'.");
                    continue;
                }

                if (!options.TryGetValue(command, out var help))
                {
                    options[command] = help = (await JobsTool.RunAsync(null, [.. command.Split(' '), "--help"])).Out;
                }

                problems.AddRange(words.Where(w => w.StartsWith("--", StringComparison.Ordinal) && w.Length > 2)
                    .Where(o => !Regex.IsMatch(help, $@"(^|\s){Regex.Escape(o)}(\s|$)", RegexOptions.Multiline))
                    .Select(o => $"{readme}: `{line}`: '{command}' takes no option {o}."));
            }
        }

        var toolReadme = string.Join('\n', CommandLines(File.ReadAllText(Path.Combine(Root(), "src", "Jobs.Sdk.Cli", "README.md"))));
        problems.AddRange(commands.Where(c => !Regex.IsMatch(toolReadme, $@"(^|\n)jobs {Regex.Escape(c)}(\s|$)"))
            .Select(c => $"src/Jobs.Sdk.Cli/README.md does not show the command '{c}'."));
        Assert.True(problems.Count == 0, string.Join('\n', problems));
    }

    /// <summary>
    /// Each <c>jobs ...</c> line of the fenced code blocks, comments cut, quoted text kept as one word, and alternatives
    /// (<c>retry|cancel|delete</c>, <c>pause|resume</c>) expanded to one line each.
    /// </summary>
    private static IEnumerable<string> CommandLines(string markdown)
    {
        var inCode = false;
        foreach (var raw in markdown.Split('\n'))
        {
            if (raw.TrimStart().StartsWith("```", StringComparison.Ordinal))
            {
                inCode = !inCode;
                continue;
            }

            if (!inCode)
            {
                continue;
            }

            var unquoted = QuotedPattern().Replace(raw, "QUOTED");
            var hash = unquoted.IndexOf(" #", StringComparison.Ordinal);
            foreach (var part in (hash >= 0 ? unquoted[..hash] : unquoted).Split("&&"))
            {
                var text = part.Trim();
                if (text.StartsWith("jobs ", StringComparison.Ordinal))
                {
                    foreach (var expanded in Expand(text.Split(' ', StringSplitOptions.RemoveEmptyEntries)))
                    {
                        yield return expanded;
                    }
                }
            }
        }
    }

    private static IEnumerable<string> Expand(string[] words)
    {
        var at = Array.FindIndex(words, w => w.Contains('|', StringComparison.Ordinal) && !w.StartsWith('-') && !w.StartsWith('['));
        if (at < 0)
        {
            return [string.Join(' ', words)];
        }

        return words[at].Split('|').SelectMany(choice => Expand([.. words[..at], choice, .. words[(at + 1)..]]));
    }

    private static string Root()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Jobs.Sdk.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"Jobs.Sdk.sln not found above {AppContext.BaseDirectory}.");
    }

    [GeneratedRegex(@"^  (\S+(?: \S+)?)\s{2,}\S", RegexOptions.Multiline)]
    private static partial Regex CommandPattern();

    [GeneratedRegex("\"[^\"]*\"|'[^']*'")]
    private static partial Regex QuotedPattern();
}
