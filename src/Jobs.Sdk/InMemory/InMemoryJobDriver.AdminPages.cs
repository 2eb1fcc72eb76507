using Jobs.Sdk.Drivers;

namespace Jobs.Sdk.InMemory;

// The in-memory admin store's pages of its queue and schedule lists: the details of a page's items only.
public sealed partial class InMemoryJobDriver : IPagedAdminCatalogs
{
    /// <inheritdoc />
    Task<(IReadOnlyList<QueueInfo> Queues, int Total)> IPagedAdminCatalogs.GetQueuePageAsync(string? after, int take, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var now = _time.GetUtcNow();
        lock (_gate)
        {
            var queues = AllQueues().ToDictionary(q => q.QueueName, StringComparer.Ordinal);
            var live = LiveWorkers(now);
            var names = ListedQueueNames(queues, live);
            IReadOnlyList<QueueInfo> page = [.. names
                .Where(n => after is null || string.CompareOrdinal(n, after) > 0)
                .Take(take)
                .Select(name => QueueInfoOf(name, queues, live, now))];
            return Task.FromResult((page, names.Count));
        }
    }

    /// <inheritdoc />
    Task<IReadOnlyList<ScheduleInfo>> IPagedAdminCatalogs.GetSchedulePageAsync((string Queue, string Key)? after, int take, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var now = _time.GetUtcNow();
        lock (_gate)
        {
            IReadOnlyList<ScheduleInfo> page = [.. _scheduleEntries.Values
                .Where(e => after is not { } a || After(e.Registration, a))
                .OrderBy(e => e.Registration.QueueName, StringComparer.Ordinal)
                .ThenBy(e => e.Registration.EntryKey, StringComparer.Ordinal)
                .Take(take)
                .Select(e => ScheduleInfoOf(e, now))];
            return Task.FromResult(page);
        }

        static bool After(ScheduleRegistration entry, (string Queue, string Key) after)
        {
            var byQueue = string.CompareOrdinal(entry.QueueName, after.Queue);
            return byQueue > 0 || (byQueue == 0 && string.CompareOrdinal(entry.EntryKey, after.Key) > 0);
        }
    }
}
