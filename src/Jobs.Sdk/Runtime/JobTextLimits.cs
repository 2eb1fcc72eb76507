using System.Text;

namespace Jobs.Sdk;

/// <summary>
/// The texts every driver refuses because PostgreSQL cannot store or index them: NUL characters (text rejects them),
/// unpaired UTF-16 surrogates (they have no UTF-8 form: Npgsql refuses them, and a hash of their UTF-8 would make two
/// different texts one), and queue names and concurrency keys longer than <see cref="MaxIndexedBytes"/> (both sit in btree
/// indexes, whose entries hold at most 2,704 bytes; two texts of this length fit together).
/// </summary>
internal static class JobTextLimits
{
    /// <summary>The longest queue name or concurrency key, in UTF-8 bytes.</summary>
    public const int MaxIndexedBytes = 1000;

    /// <summary>
    /// Throws unless <paramref name="name"/> is a non-empty queue name PostgreSQL can store and index, with no whitespace at
    /// either end (<see cref="CheckTrimmed"/>).
    /// </summary>
    public static void CheckQueueName(string name, string paramName)
    {
        if (name.Length == 0 || name.Contains('\0', StringComparison.Ordinal))
        {
            throw new ArgumentException("A queue name must be non-empty and contain no NUL characters.", paramName);
        }

        CheckTrimmed(name, "A queue name", paramName);
        CheckStorable(name, "A queue name", paramName);
        CheckLength(name, "A queue name", paramName);
    }

    /// <summary>
    /// Throws when the name <paramref name="name"/> is only whitespace or starts or ends with it (<c>" "</c>, <c>"\t"</c>,
    /// <c>"emails "</c>): names are kept exactly, so <c>"emails "</c> would be another name than <c>"emails"</c>, which is
    /// never what was meant (a value read from configuration or a file keeps its trailing space or newline).
    /// <paramref name="what"/> starts the message ("A queue name").
    /// </summary>
    public static void CheckTrimmed(string name, string what, string paramName)
    {
        if (WhiteSpaceProblem(name) is { } problem)
        {
            throw new ArgumentException($"{what} must not start or end with whitespace: {Quote(name)} {problem}. Remove the whitespace.", paramName);
        }
    }

    /// <summary>
    /// Why the name <paramref name="name"/> is refused for its whitespace (it is only whitespace, or it starts or ends with
    /// it: then it names something else than its trimmed form), or <see langword="null"/>.
    /// </summary>
    public static string? WhiteSpaceProblem(string name)
        => name.Length == 0 || (!char.IsWhiteSpace(name[0]) && !char.IsWhiteSpace(name[^1])) ? null
            : string.IsNullOrWhiteSpace(name) ? "is only whitespace"
            : $"would be another name than {Quote(name.Trim())}";

    /// <summary>
    /// <paramref name="text"/> quoted for a message: control characters and surrogates escaped (<c>\u000A</c>), cut after 37
    /// characters.
    /// </summary>
    public static string Quote(string? text)
    {
        if (text is null)
        {
            return "null";
        }

        var builder = new StringBuilder("'");
        foreach (var c in text.Length > 40 ? text[..37] : text)
        {
            builder.Append(char.IsControl(c) || char.IsSurrogate(c) ? $"\\u{(int)c:X4}" : c.ToString());
        }

        return builder.Append(text.Length > 40 ? "...'" : "'").ToString();
    }

    /// <summary>Throws unless <paramref name="key"/> is a concurrency key PostgreSQL can store and index.</summary>
    public static void CheckConcurrencyKey(string key, string what, string paramName)
    {
        CheckStorable(key, what, paramName);
        CheckLength(key, what, paramName);
    }

    /// <summary>
    /// Throws unless <paramref name="text"/> (<see langword="null"/> passes) has no NUL character and no unpaired surrogate;
    /// <paramref name="what"/> starts the message ("The pause reason").
    /// </summary>
    public static void CheckStorable(string? text, string what, string paramName)
    {
        if (text is not null && IndexOfUnstorable(text) is var at and >= 0)
        {
            throw new ArgumentException(
                $"{what} contains {(text[at] == '\0' ? "a NUL character (U+0000)" : $"an unpaired surrogate (U+{(int)text[at]:X4})")} at index {at}: "
                + "no store can hold it (PostgreSQL text rejects NUL; an unpaired surrogate has no UTF-8 form). Remove it, or encode the text.",
                paramName);
        }
    }

    /// <summary>
    /// Throws unless the audit information <paramref name="audit"/> can be stored and listed: its actor and reason storable
    /// (<see cref="CheckStorable"/>) and within <see cref="AuditInfo.MaxActorLength"/> and <see cref="AuditInfo.MaxReasonLength"/>
    /// (<see cref="CheckOperatorText"/>). The one check of an operator's audit text, whichever driver stores it.
    /// </summary>
    public static void CheckAudit(AuditInfo? audit, string paramName)
    {
        CheckOperatorText(audit?.Actor, AuditInfo.MaxActorLength, "The audit actor", paramName);
        CheckOperatorText(audit?.Reason, AuditInfo.MaxReasonLength, "The audit reason", paramName);
    }

    /// <summary>
    /// Throws unless the operator's free text <paramref name="text"/> (<see langword="null"/> passes) is storable
    /// (<see cref="CheckStorable"/>) and at most <paramref name="max"/> characters: it is stored and sent back with every
    /// listing (queues, the audit log, the dashboard's live snapshot), so one careless script must not make each of them
    /// megabytes. <paramref name="what"/> starts the message ("The pause reason").
    /// </summary>
    public static void CheckOperatorText(string? text, int max, string what, string paramName)
    {
        CheckStorable(text, what, paramName);
        if (text is not null && text.Length > max)
        {
            throw new ArgumentException(
                $"{what} is {text.Length} characters long; at most {max} are allowed (it is stored and sent back with every listing of "
                + "the queues, the audit log and the dashboard). Shorten it: put the details elsewhere (a ticket, a document) and refer to them.",
                paramName);
        }
    }

    /// <summary>
    /// Throws when the unique key <paramref name="key"/> has an unpaired surrogate: it is stored as a hash of its UTF-8, where
    /// every unpaired surrogate becomes U+FFFD, so two different keys would be one (the second push silently not inserted).
    /// A NUL character hashes as any other.
    /// </summary>
    public static void CheckUniqueKey(string key, string what, string paramName)
    {
        if (IndexOfUnpairedSurrogate(key) is var at and >= 0)
        {
            throw new ArgumentException(
                $"{what} contains an unpaired surrogate (U+{(int)key[at]:X4}) at index {at}: it has no UTF-8 form, and keys that differ only there would "
                + "be one key. Remove it, or encode the text.", paramName);
        }
    }

    /// <summary>The index of the first NUL character or unpaired surrogate of <paramref name="text"/>, or -1.</summary>
    public static int IndexOfUnstorable(string text)
    {
        var nul = text.IndexOf('\0', StringComparison.Ordinal);
        var lone = IndexOfUnpairedSurrogate(text);
        return nul < 0 ? lone : lone < 0 ? nul : Math.Min(nul, lone);
    }

    /// <summary>The index of the first unpaired UTF-16 surrogate of <paramref name="text"/>, or -1.</summary>
    public static int IndexOfUnpairedSurrogate(string text)
    {
        var span = text.AsSpan();
        var first = span.IndexOfAnyInRange('\uD800', '\uDFFF');
        if (first < 0)
        {
            return -1;
        }

        // Texts with surrogates (emoji, say) are walked pair by pair from the first one.
        for (var i = first; i < span.Length; i++)
        {
            if (char.IsHighSurrogate(span[i]) && i + 1 < span.Length && char.IsLowSurrogate(span[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(span[i]))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>Throws when <paramref name="text"/> is longer than <see cref="MaxIndexedBytes"/> bytes of UTF-8.</summary>
    public static void CheckLength(string text, string what, string paramName)
    {
        // At most 3 UTF-8 bytes per UTF-16 code unit: short texts need no count.
        if (text.Length > MaxIndexedBytes / 3 && Encoding.UTF8.GetByteCount(text) is var bytes and > MaxIndexedBytes)
        {
            throw new ArgumentException(
                $"{what} is {bytes} bytes of UTF-8; at most {MaxIndexedBytes} bytes are allowed (PostgreSQL indexes it). Use a shorter text, or a hash of it.",
                paramName);
        }
    }
}
