namespace Jobs.Sdk;

/// <summary>
/// One page of the store's queues (<see cref="JobAdmin.GetQueuesAsync(int, string?, CancellationToken)"/>), as
/// <see cref="SchedulePage"/> pages the schedule entries: by name (ordinal) and an opaque cursor naming the last queue
/// given, so queues that appear or go away between two pages neither repeat nor shift the next one.
/// </summary>
/// <param name="Items">The queues, ordered by name (ordinal).</param>
/// <param name="NextCursor">Pass it back for the next page; <see langword="null"/> when there is none.</param>
/// <param name="Total">How many queues the store listed when it read this page (all pages together).</param>
public sealed record QueuePage(IReadOnlyList<QueueInfo> Items, string? NextCursor, int Total)
{
    /// <summary>The pager of the queues: keyed by name (a queue's name is never empty and holds no NUL).</summary>
    internal static readonly CursorPager<QueueInfo> Pager = new("queues", q => q.Name, k => k.Length > 0 && !k.Contains('\0', StringComparison.Ordinal));

    /// <summary>The page of <paramref name="queues"/> (every queue, in any order) after the key <see cref="CursorPager{T}.After"/> decoded.</summary>
    internal static QueuePage Page(IReadOnlyList<QueueInfo> queues, string? after, int limit)
    {
        var (items, next) = Pager.Page(queues, after, limit);
        return new(items, next, queues.Count);
    }

    /// <summary>
    /// The page of <paramref name="queues"/>, the queues after the cursor's key that a store read (at most
    /// <paramref name="limit"/> + 1, by name), of <paramref name="total"/> queues.
    /// </summary>
    internal static QueuePage Slice(IReadOnlyList<QueueInfo> queues, int limit, int total)
    {
        var (items, next) = Pager.Slice(queues, limit);
        return new(items, next, total);
    }
}
