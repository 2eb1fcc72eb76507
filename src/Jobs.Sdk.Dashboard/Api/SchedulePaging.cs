using System.Buffers.Text;
using System.Text;

namespace Jobs.Sdk.Dashboard;

/// <summary>
/// Pages of the schedule entries as the jobs list pages its jobs: at most a page per response, in the list's order (queue,
/// then entry key, ordinal), and an opaque cursor naming the last entry given, so entries published or removed between two
/// pages neither repeat nor shift the next one.
/// </summary>
internal static class SchedulePaging
{
    /// <summary>Between queue and entry key in a cursor: a queue name holds no NUL.</summary>
    private const char Separator = '\0';

    /// <summary>The entries after <paramref name="cursor"/> (from the first without one), at most <paramref name="limit"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="cursor"/> is not a cursor this endpoint gave.</exception>
    public static (IReadOnlyList<ScheduleInfo> Items, string? NextCursor) Page(IReadOnlyList<ScheduleInfo> entries, string? cursor, int limit)
    {
        var ordered = entries.OrderBy(e => e.QueueName, StringComparer.Ordinal).ThenBy(e => e.EntryKey, StringComparer.Ordinal);
        (string Queue, string Key)? after = string.IsNullOrEmpty(cursor) ? null : Decode(cursor);
        var rest = after is { } last ? ordered.SkipWhile(e => Compare(e, last) <= 0) : ordered;
        var page = rest.Take(limit + 1).ToList();
        if (page.Count <= limit)
        {
            return (page, null);
        }

        page.RemoveAt(limit);
        return (page, Encode(page[^1]));
    }

    private static int Compare(ScheduleInfo entry, (string Queue, string Key) last)
    {
        var queue = string.CompareOrdinal(entry.QueueName, last.Queue);
        return queue != 0 ? queue : string.CompareOrdinal(entry.EntryKey, last.Key);
    }

    private static string Encode(ScheduleInfo entry) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(entry.QueueName + Separator + entry.EntryKey));

    private static (string Queue, string Key) Decode(string cursor)
    {
        string text;
        try
        {
            text = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(cursor));
        }
        catch (FormatException)
        {
            throw new ArgumentException($"The schedules cursor '{cursor}' is not one this dashboard gave.", nameof(cursor));
        }

        var split = text.IndexOf(Separator, StringComparison.Ordinal);
        return split < 0
            ? throw new ArgumentException($"The schedules cursor '{cursor}' is not one this dashboard gave.", nameof(cursor))
            : (text[..split], text[(split + 1)..]);
    }
}
