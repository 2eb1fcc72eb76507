using System.Text;

namespace Jobs.Sdk;

/// <summary>
/// The texts every driver refuses because PostgreSQL cannot store or index them: NUL characters, and queue names and
/// concurrency keys longer than <see cref="MaxIndexedBytes"/> (both sit in btree indexes, whose entries hold at most
/// 2,704 bytes; two texts of this length fit together).
/// </summary>
internal static class JobTextLimits
{
    /// <summary>The longest queue name or concurrency key, in UTF-8 bytes.</summary>
    public const int MaxIndexedBytes = 1000;

    /// <summary>Throws unless <paramref name="name"/> is a non-empty queue name PostgreSQL can store and index.</summary>
    public static void CheckQueueName(string name, string paramName)
    {
        if (name.Length == 0 || name.Contains('\0', StringComparison.Ordinal))
        {
            throw new ArgumentException("A queue name must be non-empty and contain no NUL characters.", paramName);
        }

        CheckLength(name, "A queue name", paramName);
    }

    /// <summary>Throws unless <paramref name="key"/> is a concurrency key PostgreSQL can store and index.</summary>
    public static void CheckConcurrencyKey(string key, string what, string paramName)
    {
        if (key.Contains('\0', StringComparison.Ordinal))
        {
            throw new ArgumentException($"{what} must not contain NUL characters (U+0000).", paramName);
        }

        CheckLength(key, what, paramName);
    }

    private static void CheckLength(string text, string what, string paramName)
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
