namespace Jobs.Sdk.Cli;

/// <summary>
/// ConsoleAppFramework's command list (<c>jobs</c>, <c>jobs --help</c>) names no option: the options every command takes
/// (its global <c>--timeout</c> among them, which a command's own help lists last) are listed after it.
/// </summary>
internal static class RootHelp
{
    private const string CommandList = "Usage: [command]";

    private static readonly string CommonOptions = $"""

        Options of every command (after its name; jobs COMMAND --help lists all of a command's options):
          --connection <string>    PostgreSQL connection string (default: JOBS_CONNECTION).
          --schema <string>        The job schema (default: jobs).
          --json                   Machine-readable output.
          {CommandTimeout.Option} <seconds>      {CommandTimeout.Description}
        """;

    /// <summary><paramref name="write"/>, with the common options added after the command list.</summary>
    public static Action<string> WithCommonOptions(Action<string> write)
        => text => write(text.StartsWith(CommandList, StringComparison.Ordinal) ? text.TrimEnd() + Environment.NewLine + CommonOptions : text);
}
