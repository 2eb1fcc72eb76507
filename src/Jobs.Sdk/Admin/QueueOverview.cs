namespace Jobs.Sdk;

/// <summary>
/// The store's queue list summed up (<see cref="Drivers.IAdminQueueOverview"/>), as the dashboard's overview shows it.
/// </summary>
/// <param name="Totals">The jobs per state over every queue.</param>
/// <param name="QueueCount">How many queues the list holds.</param>
/// <param name="PausedCount">How many of them are paused.</param>
/// <param name="OldestWaitingAge">The longest any due job (pending or retrying, run time passed) has waited; <see langword="null"/> when none is due.</param>
/// <param name="Busiest">The busiest queues in full: the most jobs pending, processing, retrying or failed first, then by name (ordinal).</param>
internal sealed record QueueOverview(JobCounts Totals, int QueueCount, int PausedCount, TimeSpan? OldestWaitingAge, IReadOnlyList<QueueInfo> Busiest)
{
    /// <summary>How busy <paramref name="queue"/> is for <see cref="Busiest"/>: its jobs pending, processing, retrying or failed.</summary>
    public static long Busy(JobCounts queue) => queue.Pending + queue.Processing + queue.Retrying + queue.Failed;
}
