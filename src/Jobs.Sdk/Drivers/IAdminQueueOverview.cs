namespace Jobs.Sdk.Drivers;

/// <summary>
/// An admin store that sums up its queue list in the store (the drivers of this SDK), so that the dashboard's live overview
/// (<see cref="JobAdmin.GetQueueOverviewAsync"/>) reads the totals, two counts, the oldest waiting age and the busiest
/// queues, not every queue with its details (3,000 queues read ~390 KB from PostgreSQL at every refresh). Another store is
/// read whole (<see cref="IJobAdminStore.GetQueuesAsync"/>) and summed up by its caller.
/// </summary>
internal interface IAdminQueueOverview
{
    /// <summary>
    /// The queues <see cref="IJobAdminStore.GetQueuesAsync"/> lists, summed up (<see cref="QueueOverview"/>), with at most
    /// <paramref name="busiest"/> of them in full: the most jobs pending, processing, retrying or failed first, then by name.
    /// </summary>
    Task<QueueOverview> GetQueueOverviewAsync(int busiest, CancellationToken cancellationToken);
}
