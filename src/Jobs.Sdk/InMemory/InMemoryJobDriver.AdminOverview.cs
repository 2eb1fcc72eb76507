using Jobs.Sdk.Drivers;

namespace Jobs.Sdk.InMemory;

// The in-memory admin store's queue list summed up for the dashboard's overview: read under the lock, as the list is.
public sealed partial class InMemoryJobDriver : IAdminQueueOverview
{
    /// <inheritdoc />
    Task<QueueOverview> IAdminQueueOverview.GetQueueOverviewAsync(int busiest, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var now = _time.GetUtcNow();
        lock (_gate)
        {
            var queues = AllQueues().ToDictionary(q => q.QueueName, StringComparer.Ordinal);
            var live = LiveWorkers(now);
            var all = ListedQueueNames(queues, live).Select(name => QueueInfoOf(name, queues, live, now)).ToList();
            var totals = JobCounts.From(all.SelectMany(q => Enum.GetValues<JobState>().Select(s => KeyValuePair.Create(s, q.Counts[s]))));
            var overview = new QueueOverview(
                totals, all.Count, all.Count(q => q.IsPaused), all.Max(q => q.OldestWaitingAge),
                [.. all.OrderByDescending(q => QueueOverview.Busy(q.Counts)).ThenBy(q => q.Name, StringComparer.Ordinal).Take(busiest)]);
            return Task.FromResult(overview);
        }
    }
}
