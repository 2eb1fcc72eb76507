namespace Jobs.Sdk.Dashboard;

/// <summary>
/// Pages of the schedule entries (<see cref="CursorPaging"/>) in the list's order: queue, then entry key, ordinal.
/// </summary>
internal static class SchedulePaging
{
    /// <summary>Between queue and entry key in a sort key: a queue name holds no NUL, so the key sorts by queue, then entry key.</summary>
    private const char Separator = '\0';

    /// <summary>The entries after <paramref name="cursor"/> (from the first without one), at most <paramref name="limit"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="cursor"/> is not a cursor this endpoint gave.</exception>
    public static (IReadOnlyList<ScheduleInfo> Items, string? NextCursor) Page(IReadOnlyList<ScheduleInfo> entries, string? cursor, int limit)
        => CursorPaging.Page(entries, e => e.QueueName + Separator + e.EntryKey, cursor, limit, "schedules");
}
