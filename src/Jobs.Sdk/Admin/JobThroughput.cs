namespace Jobs.Sdk;

/// <summary>
/// Jobs of one queue that finished in one minute (see <see cref="JobAdmin.GetThroughputAsync"/>): counted by the worker
/// processes as they record outcomes, so the numbers hold whatever retention deletes.
/// </summary>
/// <param name="Minute">The start of the minute (UTC, on the workers' clock).</param>
/// <param name="QueueName">The queue.</param>
/// <param name="Completed">Jobs that completed.</param>
/// <param name="Failed">Jobs that failed for good (attempts used up, or not runnable).</param>
public sealed record JobThroughputMinute(DateTimeOffset Minute, string QueueName, int Completed, int Failed);

/// <summary>
/// What one worker process reports to the admin store with its presence heartbeat: its totals per minute and queue, for the
/// minutes that changed since its last report (each total replaces the previous one, so a repeated report is harmless).
/// </summary>
public sealed record JobThroughputReport
{
    /// <summary>The reporting worker (<see cref="JobWorker.WorkerId"/>).</summary>
    public required string WorkerId { get; init; }

    /// <summary>The worker's totals per minute and queue.</summary>
    public required IReadOnlyList<JobThroughputMinute> Minutes { get; init; }
}
