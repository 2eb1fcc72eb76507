using Jobs.Sdk.Drivers;

namespace Jobs.Sdk;

// The queue list summed up for the dashboard's live overview.
public sealed partial class JobAdmin
{
    /// <summary>
    /// The queue list summed up, with the <paramref name="busiest"/> busiest queues in full, read from the store in a few
    /// rows (<see cref="IAdminQueueOverview"/>); <see langword="null"/> when the store cannot (its caller reads
    /// <see cref="GetQueuesAsync(CancellationToken)"/> whole, as before).
    /// </summary>
    internal async Task<QueueOverview?> GetQueueOverviewAsync(int busiest, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(busiest);
        return Store is IAdminQueueOverview overview ? await overview.GetQueueOverviewAsync(busiest, cancellationToken).ConfigureAwait(false) : null;
    }
}
