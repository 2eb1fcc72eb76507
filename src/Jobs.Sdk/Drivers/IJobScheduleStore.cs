using System.Diagnostics.CodeAnalysis;
namespace Jobs.Sdk.Drivers;

/// <summary>
/// Storage for recurring schedules, implemented by drivers that support the scheduler. Exactly-once firing is the
/// store's job: every node may try to push every fire time; the store records (entry, fire time) under a unique key
/// in the same transaction as the job, so each fire is pushed once and no fire is lost when a node dies.
/// </summary>
[Experimental(DriverSpi.DiagnosticId, Message = DriverSpi.Message)]
public interface IJobScheduleStore
{
    /// <summary>The latest fire time recorded for <paramref name="entryKey"/> in this queue, or <see langword="null"/>.</summary>
    Task<DateTimeOffset?> GetLastFireTimeAsync(string entryKey, CancellationToken cancellationToken);

    /// <summary>
    /// Atomically records (<paramref name="entryKey"/>, <paramref name="fireTime"/>) and stores <paramref name="job"/>.
    /// Returns <see langword="false"/> (and stores nothing) when that fire was already recorded, by any node.
    /// </summary>
    Task<bool> TryPushScheduledAsync(string entryKey, DateTimeOffset fireTime, JobPushRecord job, CancellationToken cancellationToken);
}
