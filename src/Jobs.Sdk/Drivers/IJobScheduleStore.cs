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
    /// The latest fire time recorded for each of <paramref name="entryKeys"/> in this queue; an entry with none recorded is
    /// left out. A starting scheduler asks this once for all its entries of the queue, so a store that answers in one round
    /// trip starts thousands of entries with one statement. The default implementation calls
    /// <see cref="GetLastFireTimeAsync"/> once per entry; stores should override it.
    /// </summary>
    async Task<IReadOnlyDictionary<string, DateTimeOffset>> GetLastFireTimesAsync(IReadOnlyList<string> entryKeys, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entryKeys);
        var last = new Dictionary<string, DateTimeOffset>(entryKeys.Count, StringComparer.Ordinal);
        foreach (var key in entryKeys)
        {
            if (await GetLastFireTimeAsync(key, cancellationToken).ConfigureAwait(false) is { } time)
            {
                last[key] = time;
            }
        }

        return last;
    }

    /// <summary>
    /// Atomically records (<paramref name="entryKey"/>, <paramref name="fireTime"/>) and stores <paramref name="job"/>.
    /// Returns <see langword="false"/> (and stores nothing) when that fire was already recorded, by any node. A job with a
    /// <see cref="JobPushRecord.UniqueKey"/> is stored only when no job of the queue holds that key (as
    /// <see cref="IJobDriver.PushUniqueAsync"/>); when one does, the fire is recorded without a job and this returns
    /// <see langword="false"/> too, as it does for a paused entry (<see cref="PushScheduledAsync"/> tells these apart).
    /// </summary>
    Task<bool> TryPushScheduledAsync(string entryKey, DateTimeOffset fireTime, JobPushRecord job, CancellationToken cancellationToken);

    /// <summary>
    /// <see cref="TryPushScheduledAsync"/>, telling what the fire did: the fire is recorded once, by one node, and its job
    /// stored unless the entry is paused or a job of the queue holds the job's <see cref="JobPushRecord.UniqueKey"/> (waiting
    /// or running, or finished less than its <see cref="JobPushRecord.UniqueFor"/> ago); a fire recorded without a job is
    /// never pushed later. The scheduler calls this one. The default implementation calls
    /// <see cref="TryPushScheduledAsync"/> and cannot tell a fire recorded without a job from one already recorded
    /// (<see cref="ScheduledFireOutcome.AlreadyRecorded"/>); stores should override it.
    /// </summary>
    async Task<ScheduledFireResult> PushScheduledAsync(string entryKey, DateTimeOffset fireTime, JobPushRecord job, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        return await TryPushScheduledAsync(entryKey, fireTime, job, cancellationToken).ConfigureAwait(false)
            ? new ScheduledFireResult(ScheduledFireOutcome.Pushed, job.Id)
            : new ScheduledFireResult(ScheduledFireOutcome.AlreadyRecorded, null);
    }
}
