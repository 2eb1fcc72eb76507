using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Jobs.Sdk.Cli;

/// <summary>
/// Stderr with the password of any connection string in it shown as <c>Password=***</c>: an error about a command line the
/// tool cannot use echoes the words it could not use (<c>jobs --connection "$CONN" status</c>, shown reordered;
/// <c>jobs status "$CONN"</c> without <c>--connection</c>; a connection string where the command name goes), and stderr ends
/// up in a CI job's log or a terminal's scrollback. Npgsql's keywords for it (<c>Password</c>, <c>PSW</c>, <c>PWD</c>, any
/// case), with the value quoted or up to the next <c>;</c>, quote or space.
/// </summary>
internal sealed partial class PasswordMask(TextWriter inner) : TextWriter(CultureInfo.InvariantCulture)
{
    public override Encoding Encoding => inner.Encoding;

    /// <summary>Routes <see cref="Console.Error"/> through this filter (after <see cref="TerminalText.Install"/>; once per process).</summary>
    public static void Install()
    {
        if (Console.Error is not PasswordMask)
        {
            Console.SetError(new PasswordMask(Console.Error));
        }
    }

    /// <summary><paramref name="text"/> with each connection string password in it replaced by <c>***</c>.</summary>
    public static string Mask(string text) => text.Contains('=', StringComparison.Ordinal) ? Password().Replace(text, "$1***") : text;

    public override void Write(char value) => inner.Write(value);

    public override void Write(string? value) => inner.Write(value is null ? null : Mask(value));

    public override void Write(char[] buffer, int index, int count) => Write(new string(buffer, index, count));

    public override void WriteLine(string? value) => inner.WriteLine(value is null ? null : Mask(value));

    public override void Flush() => inner.Flush();

    public override Task FlushAsync() => inner.FlushAsync();

    [GeneratedRegex("""\b((?:password|psw|pwd)\s*=\s*)("(?:[^"]|"")*"|'(?:[^']|'')*'|[^;'"\s]*)""", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex Password();
}
