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
    /// <summary>
    /// The pager of the entries: keyed by queue, NUL, entry key (a queue name holds no NUL, so the key's ordinal order is
    /// the list's, queue then entry key).
    /// </summary>
    internal static readonly CursorPager<ScheduleInfo> Pager = new("schedules", e => e.QueueName + '\0' + e.EntryKey, k => k.IndexOf('\0', StringComparison.Ordinal) > 0);

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
        CursorPager<ScheduleInfo>.CheckLimit(limit);
        return Page(entries, Pager.After(cursor), limit);
    }

    /// <summary>The page of <paramref name="entries"/> after the key <see cref="CursorPager{T}.After"/> decoded.</summary>
    internal static SchedulePage Page(IReadOnlyList<ScheduleInfo> entries, string? after, int limit)
    {
        var (items, next) = Pager.Page(entries, after, limit);
        return new(items, next);
    }

    /// <summary>The page of <paramref name="entries"/>, the entries after the cursor's key that a store read (at most <paramref name="limit"/> + 1, in order).</summary>
    internal static SchedulePage Slice(IReadOnlyList<ScheduleInfo> entries, int limit)
    {
        var (items, next) = Pager.Slice(entries, limit);
        return new(items, next);
    }

    /// <summary>The entry a key of <see cref="Pager"/> names: its queue (up to the first NUL, which no queue name holds) and entry key.</summary>
    internal static (string Queue, string Key)? Entry(string? key)
    {
        if (key is null)
        {
            return null;
        }

        var nul = key.IndexOf('\0', StringComparison.Ordinal);
        return (key[..nul], key[(nul + 1)..]);
    }
}
