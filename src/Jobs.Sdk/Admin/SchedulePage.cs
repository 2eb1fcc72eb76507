using System.Buffers.Text;
using System.Text;

namespace Jobs.Sdk;

/// <summary>
/// One page of the schedule entries (<see cref="JobAdmin.GetSchedulesAsync(int, string?, CancellationToken)"/>), as the jobs
/// list pages its jobs: in the list's order (queue, then entry key, ordinal) and an opaque cursor naming the last entry
/// given, so entries published or removed between two pages neither repeat nor shift the next one.
/// </summary>
/// <param name="Items">The entries, ordered by queue, then entry key (ordinal).</param>
/// <param name="NextCursor">Pass it back for the next page; <see langword="null"/> when there is none.</param>
public sealed record SchedulePage(IReadOnlyList<ScheduleInfo> Items, string? NextCursor)
{
    /// <summary>Between queue and entry key in a cursor: a queue name holds no NUL.</summary>
    private const char Separator = '\0';

    /// <summary>
    /// The page of <paramref name="entries"/> (all of them, in any order) after <paramref name="cursor"/> (from the first
    /// without one), at most <paramref name="limit"/> entries: for a tool that already read every entry (to find the pauses
    /// an edited schedule left behind, <see cref="SchedulePauseLeftBehind.Find"/>) and shows them a page at a time.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="limit"/> is not 1 to <see cref="JobQuery.MaxLimit"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="cursor"/> is not a cursor a page gave.</exception>
    public static SchedulePage Of(IReadOnlyList<ScheduleInfo> entries, string? cursor, int limit)
    {
        ArgumentNullException.ThrowIfNull(entries);
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(limit, JobQuery.MaxLimit);
        var ordered = entries.OrderBy(e => e.QueueName, StringComparer.Ordinal).ThenBy(e => e.EntryKey, StringComparer.Ordinal);
        (string Queue, string Key)? after = string.IsNullOrEmpty(cursor) ? null : Decode(cursor);
        var rest = after is { } last ? ordered.SkipWhile(e => Compare(e, last) <= 0) : ordered;
        var page = rest.Take(limit + 1).ToList();
        if (page.Count <= limit)
        {
            return new(page, null);
        }

        page.RemoveAt(limit);
        return new(page, Encode(page[^1]));
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
            throw NotACursor(cursor);
        }

        var split = text.IndexOf(Separator, StringComparison.Ordinal);
        return split < 0 ? throw NotACursor(cursor) : (text[..split], text[(split + 1)..]);
    }

    private static ArgumentException NotACursor(string cursor)
        => new($"The schedules cursor '{cursor}' is not one a page of schedule entries gave.", nameof(cursor));
}
