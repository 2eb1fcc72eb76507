using System.Globalization;
using System.Text;

namespace Jobs.Sdk.Cli;

/// <summary>
/// Human output (stdout and stderr text; <c>--json</c> bypasses it) with control characters shown as <c>\u001b</c> instead of
/// reaching the terminal: job names, errors, headers, queue names and pause reasons are text others control, and raw escape
/// sequences in them would clear or rewrite the screen, retitle the window or set the clipboard. Line breaks and tabs pass;
/// bidirectional overrides are shown too, so they cannot reorder what the operator reads.
/// </summary>
internal sealed class TerminalText(TextWriter inner) : TextWriter(CultureInfo.InvariantCulture)
{
    public override Encoding Encoding => inner.Encoding;

    /// <summary>Routes <see cref="Console.Out"/> and <see cref="Console.Error"/> through this filter (once per process).</summary>
    public static void Install()
    {
        if (Console.Out is not TerminalText)
        {
            Console.SetOut(new TerminalText(Console.Out));
        }

        if (Console.Error is not TerminalText)
        {
            Console.SetError(new TerminalText(Console.Error));
        }
    }

    public static bool IsUnsafe(char c)
        => (char.IsControl(c) && c is not '\n' and not '\r' and not '\t') || c is >= '\u202A' and <= '\u202E' || c is >= '\u2066' and <= '\u2069';

    public override void Write(char value)
    {
        if (IsUnsafe(value))
        {
            inner.Write(string.Create(CultureInfo.InvariantCulture, $"\\u{(int)value:x4}"));
        }
        else
        {
            inner.Write(value);
        }
    }

    public override void Write(string? value)
    {
        if (value is null || !value.AsSpan().ContainsAny(Unsafe))
        {
            inner.Write(value);
            return;
        }

        foreach (var c in value)
        {
            Write(c);
        }
    }

    public override void Write(char[] buffer, int index, int count) => Write(new string(buffer, index, count));

    public override void WriteLine(string? value)
    {
        Write(value);
        inner.WriteLine();
    }

    public override void Flush() => inner.Flush();

    public override Task FlushAsync() => inner.FlushAsync();

    private static readonly System.Buffers.SearchValues<char> Unsafe = System.Buffers.SearchValues.Create(
        Enumerable.Range(0, 0x10000).Select(i => (char)i).Where(IsUnsafe).ToArray());
}
