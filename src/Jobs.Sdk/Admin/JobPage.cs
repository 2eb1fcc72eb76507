namespace Jobs.Sdk;

/// <summary>One page of <see cref="JobAdmin.ListJobsAsync"/>.</summary>
/// <param name="Items">The jobs, in the query's order.</param>
/// <param name="NextCursor">
/// Pass it as <see cref="JobQuery.Cursor"/> to read the next page; <see langword="null"/> when there is none. Paging is by key
/// (not offset): jobs pushed or deleted meanwhile never shift a page or repeat a job. With text filters a store may bound the
/// time it searches per page (the PostgreSQL store: about 2 seconds), so a page can hold fewer than <see cref="JobQuery.Limit"/>
/// items, even none, while a next cursor still exists: the search stopped there, and the cursor searches on.
/// </param>
public sealed record JobPage(IReadOnlyList<JobSummary> Items, string? NextCursor)
{
    /// <summary>An empty page with no continuation.</summary>
    public static JobPage Empty { get; } = new([], null);
}

/// <summary>A stored job as listed by <see cref="JobAdmin.ListJobsAsync"/> (no payload; see <see cref="JobDetails"/>).</summary>
public record JobSummary
{
    /// <summary>The job id.</summary>
    public required JobId Id { get; init; }
    /// <summary>The job name.</summary>
    public required string Name { get; init; }
    /// <summary>The queue the job belongs to.</summary>
    public required string QueueName { get; init; }
    /// <summary>Current state.</summary>
    public required JobState State { get; init; }
    /// <summary>Priority.</summary>
    public required JobPriority Priority { get; init; }
    /// <summary>Attempts started so far.</summary>
    public required int Attempts { get; init; }
    /// <summary>Attempts allowed.</summary>
    public required int MaxAttempts { get; init; }
    /// <summary>When the job was pushed.</summary>
    public required DateTimeOffset QueuedAt { get; init; }
    /// <summary>When the job is (or was) due.</summary>
    public required DateTimeOffset RunAt { get; init; }
    /// <summary>When the latest attempt started.</summary>
    public DateTimeOffset? StartedAt { get; init; }
    /// <summary>When the job reached a terminal state.</summary>
    public DateTimeOffset? FinishedAt { get; init; }
    /// <summary>The last error (<c>ExceptionType: message</c>), if any.</summary>
    public string? LastError { get; init; }
    /// <summary>The worker running (or that last ran) the job.</summary>
    public string? WorkerId { get; init; }
    /// <summary>
    /// Whether an operator deleted the job while it ran (<see cref="JobAdmin.DeleteAsync(JobSelection, AuditInfo?, CancellationToken)"/>): it stays
    /// <see cref="JobState.Processing"/>, holding its place in its concurrency key's and queue's limits, until its handler
    /// ended (or its worker's lease expired), and is then removed whatever the outcome.
    /// </summary>
    public bool DeleteRequested { get; init; }
}
