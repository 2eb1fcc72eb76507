namespace Jobs.Sdk.Dashboard.Live;

/// <summary>
/// The queues the overview lists in each live event: the busiest, so that an event stays small however many queues the
/// store has (1,000 queues made every event 228 KB, sent to each open browser every <see cref="JobsDashboardOptions.LiveInterval"/>).
/// </summary>
internal static class OverviewQueues
{
    /// <summary>
    /// At most <paramref name="count"/> of <paramref name="queues"/>: the most jobs waiting, running, retrying or failed
    /// first, then by name; listed by name.
    /// </summary>
    public static IReadOnlyList<QueueDto> Busiest(IReadOnlyList<QueueDto> queues, int count)
        => queues.Count <= count
            ? [.. queues.OrderBy(q => q.Name, StringComparer.Ordinal)]
            : [.. queues.OrderByDescending(Busy).ThenBy(q => q.Name, StringComparer.Ordinal).Take(count).OrderBy(q => q.Name, StringComparer.Ordinal)];

    /// <summary>How busy a queue is: as the drivers order the overview's queues (<see cref="QueueOverview.Busy"/>).</summary>
    private static long Busy(QueueDto queue) => queue.Counts.Pending + queue.Counts.Processing + queue.Counts.Retrying + queue.Counts.Failed;
}
