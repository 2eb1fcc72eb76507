using System.Globalization;
using Npgsql;

namespace Jobs.Sdk.Cli;

/// <summary>
/// The global <c>--timeout SECONDS</c> option: the command timeout of every statement the tool sends (Npgsql's
/// <c>Command Timeout</c>, which it replaces when both are given), 0 for none. Read as text and checked here, so a value
/// that is not a whole number of seconds gets the tool's own message and exit code (<see cref="ExitCodes.Usage"/>).
/// </summary>
internal static class CommandTimeout
{
    public const string Option = "--timeout";

    /// <summary>The option's help text (a command's help, and the command list's).</summary>
    public const string Description =
        "Seconds a statement may run or wait before it is cancelled (exit 75); 0: no limit. Default: the connection string's Command Timeout, else 30.";

    /// <summary>
    /// The longest timeout a statement can have, in seconds (49 days): Npgsql's timer takes at most 4,294,967,294 ms. A
    /// longer one failed at the first statement with .NET's "Specified argument was out of the range of valid values.
    /// (Parameter 'delay')", naming neither the option nor its limit.
    /// </summary>
    public const int MaxSeconds = 4_294_967;

    // Set by the global option's parser once per run (JobsCli.RunAsync); one command per process run.
    private static string? s_text;

    public static void Reset() => s_text = null;

    public static void Set(string? text) => s_text = text;

    /// <summary>Whether <c>--timeout</c> was given (then <see cref="DatabaseError"/> names it, not the connection string).</summary>
    public static bool Given => s_text is not null;

    /// <summary><c>--timeout</c>'s seconds, or <see langword="null"/> when it was not given.</summary>
    public static int? GivenSeconds => s_text is null ? null : Seconds(s_text);

    /// <summary>
    /// <paramref name="connection"/> with its <c>Command Timeout</c> set to <c>--timeout</c>'s seconds, or unchanged when the
    /// option was not given. Throws <see cref="CliException"/> (exit 64) for a value that is not a whole number of seconds.
    /// </summary>
    public static string Apply(string connection)
    {
        if (s_text is null)
        {
            var given = new NpgsqlConnectionStringBuilder(connection).CommandTimeout;
            return given <= MaxSeconds
                ? connection
                : throw new CliException($"Command Timeout={given.ToString(CultureInfo.InvariantCulture)} in --connection or JOBS_CONNECTION is longer than a statement can wait " +
                    $"(at most {MaxSeconds} seconds, 49 days); use Command Timeout=0 for no timeout.");
        }

        var seconds = Seconds(s_text);
        return new NpgsqlConnectionStringBuilder(connection) { CommandTimeout = seconds }.ConnectionString;
    }

    /// <summary>The seconds of <paramref name="text"/>: a whole number from 0 (no timeout) to <see cref="MaxSeconds"/>.</summary>
    public static int Seconds(string text)
        => !long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
            ? throw new CliException($"{Option}: '{text}' is not a whole number of seconds; use e.g. {Option} 120 for statements that may wait two minutes, or {Option} 0 for no timeout.")
            : seconds > MaxSeconds
                ? throw new CliException($"{Option}: '{text}' is longer than a statement can wait (at most {MaxSeconds} seconds, 49 days); use {Option} 0 for no timeout.")
                : (int)seconds;
}
