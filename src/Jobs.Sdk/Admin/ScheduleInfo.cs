namespace Jobs.Sdk;

/// <summary>
/// One recurring schedule entry (<see cref="JobAdmin.GetSchedulesAsync(CancellationToken)"/>). Entries are published to the store by every process
/// that runs a scheduler (<c>AddSchedule</c>), so tools without the application's code (the <c>jobs</c> CLI) see them too.
/// </summary>
public sealed record ScheduleInfo
{
    /// <summary>The entry key (unique within a queue).</summary>
    public required string EntryKey { get; init; }
    /// <summary>The queue the entry pushes to.</summary>
    public required string QueueName { get; init; }
    /// <summary>The job name.</summary>
    public required string JobName { get; init; }
    /// <summary>The schedule, described (e.g. <c>daily at 03:00 UTC</c>).</summary>
    public required string Schedule { get; init; }
    /// <summary>The latest fire time recorded.</summary>
    public DateTimeOffset? LastFireAt { get; init; }
    /// <summary>The next fire time, as computed by the last scheduler that published the entry.</summary>
    public DateTimeOffset? NextFireAt { get; init; }
    /// <summary>Whether fires are skipped (recorded, no job pushed) until resumed.</summary>
    public bool IsPaused { get; init; }
    /// <summary>When a scheduler last published the entry.</summary>
    public DateTimeOffset? LastSeenAt { get; init; }
    /// <summary>
    /// Whether no running scheduler publishes the entry any more: none republished it within its time to live (the
    /// publishing process's lease duration). The entry was removed from the code (or got a new key when its schedule was
    /// edited), or every process that runs it is down; <see cref="NextFireAt"/> will not come until one publishes it again.
    /// A stale entry that is not paused is deleted, with its fire records, once no scheduler published it for 7 days.
    /// </summary>
    public bool IsStale { get; init; }
}
