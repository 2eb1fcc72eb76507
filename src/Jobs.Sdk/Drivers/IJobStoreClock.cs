namespace Jobs.Sdk.Drivers;

/// <summary>
/// A schedule store that reads the clock that decides when its jobs are due (PostgreSQL: the server's). A scheduler pushes
/// each fire when its own <see cref="TimeProvider"/> reaches it, and the fire falls due by the store's clock: the scheduler
/// compares the two when it starts and warns when they are apart (<see cref="JobScheduler"/>).
/// </summary>
internal interface IJobStoreClock
{
    /// <summary>The store's current time.</summary>
    Task<DateTimeOffset> GetStoreTimeAsync(CancellationToken cancellationToken);
}
