namespace Jobs.Sdk;

/// <summary>A stored job as seen by operators and tests.</summary>
public sealed record JobInfo
{
    /// <summary>The job id.</summary>
    public required JobId Id { get; init; }
    /// <summary>The job name (see <see cref="JobAttribute.Name"/>).</summary>
    public required string Name { get; init; }
    /// <summary>The queue the job belongs to.</summary>
    public required string QueueName { get; init; }
    /// <summary>Current state.</summary>
    public required JobState State { get; init; }
    /// <summary>Priority.</summary>
    public required JobPriority Priority { get; init; }
    /// <summary>Attempts started so far (1 while the first attempt runs).</summary>
    public required int Attempts { get; init; }
    /// <summary>Attempts allowed before the job fails.</summary>
    public required int MaxAttempts { get; init; }
    /// <summary>The payload as JSON text.</summary>
    public required string Payload { get; init; }
    /// <summary>When the job was pushed.</summary>
    public required DateTimeOffset QueuedAt { get; init; }
    /// <summary>When the job is (or was) due to run next.</summary>
    public required DateTimeOffset RunAt { get; init; }
    /// <summary>When the latest attempt started.</summary>
    public DateTimeOffset? StartedAt { get; init; }
    /// <summary>When the job reached a terminal state.</summary>
    public DateTimeOffset? FinishedAt { get; init; }
    /// <summary>The last error, as <c>ExceptionType: message</c> (bounded length).</summary>
    public string? LastError { get; init; }
    /// <summary>The worker currently (or last) running the job.</summary>
    public string? WorkerId { get; init; }
}
