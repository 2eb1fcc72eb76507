namespace Jobs.Sdk.Drivers;

/// <summary>
/// A driver whose queue views share one store that counts every queue's jobs per state in one read (PostgreSQL: the
/// <c>job_state_counts</c> table): the state gauge refreshes all the queues a process uses with one statement
/// (<see cref="StoreStateCountRead"/>) instead of one per queue.
/// </summary>
internal interface IAllQueueStateCounts
{
    /// <summary>What every queue view of the same store returns (the same instance): the reads are shared per store.</summary>
    object StateCountStore { get; }

    /// <summary>The store as an operator finds it, for the gauge's log messages (PostgreSQL: <c>PostgreSQL schema 'jobs'</c>).</summary>
    string StateCountStoreName { get; }

    /// <summary>Counts jobs per state in every queue of the store that has any; a queue not in it has none.</summary>
    Task<IReadOnlyDictionary<string, JobCounts>> GetAllQueueCountsAsync(CancellationToken cancellationToken);
}
