namespace Jobs.Sdk.Cli;

/// <summary>
/// Makes a command that needs an argument, given nothing after its name, exit <see cref="ExitCodes.Usage"/>: a script whose
/// variable expanded to nothing (<c>jobs queue pause $QUEUE</c>, <c>jobs show $ID</c>). ConsoleAppFramework prints the
/// command's usage for it, runs nothing and leaves the exit code 0, so the script went on as if the queue were paused.
/// </summary>
internal static class MissingArguments
{
    private const string UsagePrefix = "Usage: ";

    // The usage ConsoleAppFramework printed for a command when it was not asked for; one command per process run.
    private static string? s_usage;

    public static void Reset() => s_usage = null;

    /// <summary>
    /// <paramref name="write"/>, remembering a command's usage printed when <paramref name="askedForHelp"/> is false (the
    /// command list of a command line that names no command is <see cref="UnknownCommand"/>'s).
    /// </summary>
    public static Action<string> Watch(Action<string> write, bool askedForHelp) => text =>
    {
        if (!askedForHelp && text.StartsWith(UsagePrefix, StringComparison.Ordinal) && !text.StartsWith(UsagePrefix + "[command]", StringComparison.Ordinal))
        {
            s_usage = text;
        }

        write(text);
    };

    /// <summary>After the run: when a command's usage was printed instead of running it, says what it needs on stderr and returns <see cref="ExitCodes.Usage"/>.</summary>
    public static int Check(int exitCode)
    {
        if (s_usage is not { } usage || exitCode != ExitCodes.Ok)
        {
            return exitCode;
        }

        var lines = usage.ReplaceLineEndings("\n").Split('\n');
        var command = lines[0][UsagePrefix.Length..].Split(" [", 2)[0];
        var needs = Required(lines).ToArray();
        Console.Error.WriteLine($"error: jobs {command} needs {(needs.Length == 0 ? "arguments" : string.Join(" and ", needs))}; nothing ran. Its usage is above, on stderr.");
        return ExitCodes.Usage;
    }

    /// <summary>
    /// What the usage lists as required: each argument that is not a list (<c>[0] &lt;string&gt;    The queue.</c>: "the
    /// queue"), each option marked <c>[Required]</c> (<c>--to</c>).
    /// </summary>
    private static IEnumerable<string> Required(string[] lines)
    {
        var section = "";
        foreach (var line in lines)
        {
            var text = line.Trim();
            if (text.EndsWith(':') && !line.StartsWith(' '))
            {
                section = text;
            }
            else if (section == "Arguments:" && text.StartsWith('[') && text.Split("    ", 2, StringSplitOptions.TrimEntries) is [var type, { Length: > 0 } description]
                && !type.EndsWith("[]>", StringComparison.Ordinal))
            {
                yield return char.ToLowerInvariant(description[0]) + description[1..].TrimEnd('.');
            }
            else if (section == "Options:" && text.StartsWith("--", StringComparison.Ordinal) && text.EndsWith("[Required]", StringComparison.Ordinal))
            {
                yield return text.Split(' ', 2)[0];
            }
        }
    }
}
