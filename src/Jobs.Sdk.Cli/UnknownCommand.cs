using ConsoleAppFramework;

namespace Jobs.Sdk.Cli;

/// <summary>
/// Makes a command line that names no command (a typo, or a command of a newer tool) exit <see cref="ExitCodes.Usage"/>. ConsoleAppFramework prints the
/// command list for it and leaves the exit code 0, so a script running <c>jobs retyr ...</c> went on as if it had worked.
/// </summary>
internal sealed class UnknownCommand(ConsoleAppFilter next) : ConsoleAppFilter(next)
{
    // Set by this global filter when any command (or its argument parsing) is reached; one command per process run.
    private static bool s_ran;

    public static void Reset() => s_ran = false;

    public override Task InvokeAsync(ConsoleAppContext context, CancellationToken cancellationToken)
    {
        s_ran = true;
        return Next.InvokeAsync(context, cancellationToken);
    }

    /// <summary>
    /// Where ConsoleAppFramework's help goes: stdout when it was asked for (<c>jobs</c> alone, <c>--help</c>, <c>--version</c>);
    /// otherwise it is the command list printed for a command line that names no command, which goes with its error to
    /// stderr (<c>jobs lsit --json | jq</c> would read the list as its JSON).
    /// </summary>
    public static Action<string> HelpWriter(string[] args)
        => AskedForHelp(args) ? static text => Console.Out.WriteLine(text) : static text => Console.Error.WriteLine(text);

    /// <summary>Whether <paramref name="args"/> ask for the help or the version (<c>jobs</c> alone, <c>--help</c> or <c>-h</c> anywhere, <c>--version</c>).</summary>
    public static bool AskedForHelp(string[] args)
        => args.Length == 0 || args.TakeWhile(a => a != "--").Any(a => a is "-h" or "--help") || args is ["--version"];

    /// <summary>After the run: when no command ran and help or the version was not asked for, says so on stderr and returns <see cref="ExitCodes.Usage"/>.</summary>
    public static int Check(string[] args, int exitCode)
    {
        if (s_ran || AskedForHelp(args))
        {
            return exitCode;
        }

        // An option before the command name (jobs --timeout 60 status): ConsoleAppFramework reads options after it only.
        if (args[0].StartsWith("--", StringComparison.Ordinal))
        {
            Console.Error.WriteLine($"error: '{args[0]}' comes before the command name: options come after it ({Reordered(args)}).");
            return ExitCodes.Usage;
        }

        // "queue" is a command group (JobsCli adds its commands under it): name the word after it too.
        var words = args[0] == "queue" && args.Length > 1 && !args[1].StartsWith('-') ? args[0] + " " + args[1] : args[0];
        Console.Error.WriteLine($"error: no jobs command '{words}' (the commands are listed above, on stderr; jobs COMMAND --help shows a command's options).");
        return ExitCodes.Usage;
    }

    /// <summary>
    /// <paramref name="args"/> with its leading options (each with the value after it, unless that is the last word) moved
    /// after the rest: <c>--timeout 60 status</c> is <c>jobs status --timeout 60</c>.
    /// </summary>
    private static string Reordered(string[] args)
    {
        var i = 0;
        while (i < args.Length && args[i].StartsWith("--", StringComparison.Ordinal))
        {
            i += i + 2 < args.Length && !args[i + 1].StartsWith('-') ? 2 : 1;
        }

        return i < args.Length ? $"jobs {string.Join(' ', args[i..])} {string.Join(' ', args[..i])}" : "jobs COMMAND [options]";
    }
}
