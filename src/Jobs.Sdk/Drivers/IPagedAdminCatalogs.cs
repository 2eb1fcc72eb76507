namespace Jobs.Sdk.Drivers;

/// <summary>
/// An admin store that reads one page of its queue and schedule lists (the drivers of this SDK), so that
/// <see cref="JobAdmin.GetQueuesAsync(int, string?, CancellationToken)"/> and
/// <see cref="JobAdmin.GetSchedulesAsync(int, string?, CancellationToken)"/> read and send a page, not the whole list
/// (a page of 20 of 10,000 queues read every queue with its counts). Another store is read whole and paged by
/// <see cref="JobAdmin"/> (<see cref="CursorPager{T}.Page"/>), with the same cursors.
/// </summary>
/// <remarks>
/// Each page is at most <c>limit + 1</c> items in the list's order (the one beyond the page tells that there is a next
/// page), after a key <see cref="CursorPager{T}.After"/> decoded and validated before the store is called.
/// </remarks>
internal interface IPagedAdminCatalogs
{
    /// <summary>
    /// The queues (as <see cref="IJobAdminStore.GetQueuesAsync"/> lists them) whose name sorts after
    /// <paramref name="after"/> (from the first when null), by name, at most <paramref name="take"/>; and how many queues
    /// the store lists in all.
    /// </summary>
    Task<(IReadOnlyList<QueueInfo> Queues, int Total)> GetQueuePageAsync(string? after, int take, CancellationToken cancellationToken);

    /// <summary>
    /// The schedule entries (as <see cref="IJobAdminStore.GetSchedulesAsync"/> lists them) after the entry
    /// <paramref name="after"/> (from the first when null), by queue then entry key, at
    /// most <paramref name="take"/>.
    /// </summary>
    Task<IReadOnlyList<ScheduleInfo>> GetSchedulePageAsync((string Queue, string Key)? after, int take, CancellationToken cancellationToken);
}
