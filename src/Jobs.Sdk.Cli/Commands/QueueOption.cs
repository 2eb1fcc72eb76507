using System.Globalization;
using System.Text;

namespace Jobs.Sdk.Cli;

/// <summary>
/// Refuses a <c>--queue</c> value no queue can have, naming the option: empty, only whitespace, whitespace at either end
/// (a script's <c>--queue "$QUEUE"</c> whose variable is empty or was read with its newline) or a NUL character. A command
/// that opens the queue's driver was otherwise refused with the driver's message for a program's options, which names
/// nothing the operator typed.
/// </summary>
internal static class QueueOption
{
    /// <summary>Throws when <paramref name="queue"/> is given and unusable; <paramref name="otherwise"/> ends the message ("leave --queue out to clean every queue").</summary>
    public static void Check(string? queue, string otherwise)
    {
        if (queue is null)
        {
            return;
        }

        var problem = queue.Length == 0 ? "an empty value names no queue"
            : string.IsNullOrWhiteSpace(queue) ? $"{Quoted(queue)} is only whitespace (an empty variable?)"
            : char.IsWhiteSpace(queue[0]) || char.IsWhiteSpace(queue[^1]) ? $"{Quoted(queue)} starts or ends with whitespace, which no queue name does (a value read with its newline?)"
            : queue.Contains('\0', StringComparison.Ordinal) ? "a queue name has no NUL characters"
            : null;
        if (problem is not null)
        {
            throw new CliException($"--queue: {problem}; give the queue's name, or {otherwise}.");
        }
    }

    /// <summary>The value quoted, control characters escaped (<c>\u000A</c>) so the message stays on one line.</summary>
    private static string Quoted(string value)
    {
        var text = new StringBuilder("'");
        foreach (var c in value)
        {
            text.Append(char.IsControl(c) ? "\\u" + ((int)c).ToString("X4", CultureInfo.InvariantCulture) : c.ToString());
        }

        return text.Append('\'').ToString();
    }
}
