namespace Jobs.Sdk;

/// <summary>
/// A pause an edited schedule left behind. A pause belongs to an entry key, and an entry's default key holds its schedule's
/// text (<c>"{job name}@{schedule}"</c>): a deploy that edits a paused entry's schedule publishes a new key that is not
/// paused, and the job fires again while the pause sits on the old, now stale key. Nothing tells such an edit from a second
/// entry of the same job, so nothing moves the pause; <see cref="Find"/> names each paused stale entry whose job a live entry
/// of its queue schedules unpaused, for the operator to decide (the <c>jobs</c> CLI's <c>schedules</c> and <c>doctor</c>,
/// the dashboard's schedules page).
/// </summary>
public sealed record SchedulePauseLeftBehind
{
    /// <summary>The paused entry no running scheduler publishes any more (the old key).</summary>
    public required ScheduleInfo Paused { get; init; }

    /// <summary>A live entry of the same queue and job that is not paused (the new key): its fires push jobs.</summary>
    public required ScheduleInfo Live { get; init; }

    /// <summary>
    /// The pauses left behind among <paramref name="entries"/> (<see cref="JobAdmin.GetSchedulesAsync(CancellationToken)"/>): one pair per paused
    /// stale entry and unpaused live entry of the same queue and job, in the order of <paramref name="entries"/>.
    /// </summary>
    /// <param name="entries">Every schedule entry of the store.</param>
    public static IReadOnlyList<SchedulePauseLeftBehind> Find(IReadOnlyList<ScheduleInfo> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        return [.. from paused in entries
                   where paused.IsPaused && paused.IsStale
                   from live in entries
                   where !live.IsPaused && !live.IsStale && live.QueueName == paused.QueueName && live.JobName == paused.JobName
                   select new SchedulePauseLeftBehind { Paused = paused, Live = live }];
    }
}
