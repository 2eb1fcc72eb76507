using System.Globalization;

namespace Jobs.Sdk.Dashboard;

/// <summary>Admin API types to the dashboard's wire format, and the jobs list's query string to a <see cref="JobQuery"/>.</summary>
internal static class DashboardMapping
{
    public static string Name(JobState state) => state switch
    {
        JobState.Pending => "pending",
        JobState.Processing => "processing",
        JobState.Retrying => "retrying",
        JobState.Completed => "completed",
        JobState.Failed => "failed",
        JobState.Cancelled => "cancelled",
        JobState.Paused => "paused",
        _ => ((short)state).ToString(CultureInfo.InvariantCulture),
    };

    public static string Name(JobPriority priority) => priority switch
    {
        JobPriority.Lowest => "lowest",
        JobPriority.Lower => "lower",
        JobPriority.Normal => "normal",
        JobPriority.Higher => "higher",
        JobPriority.Highest => "highest",
        _ => ((short)priority).ToString(CultureInfo.InvariantCulture),
    };

    public static JobSummaryDto ToDto(JobSummary j) => new(
        j.Id.ToString(), j.Name, j.QueueName, Name(j.State), Name(j.Priority), j.Attempts, j.MaxAttempts,
        j.QueuedAt, j.RunAt, j.StartedAt, j.FinishedAt, j.LastError, j.WorkerId);

    public static JobDetailsDto ToDto(JobDetails j) => new(
        ToDto((JobSummary)j), j.Payload, j.Headers,
        j.Errors.Select(e => new AttemptErrorDto(e.Attempt, e.Error, e.At, e.StackTrace)).ToArray(),
        j.LeaseExpiresAt, j.CancelRequested, j.UpdatedAt, j.TraceId, j.ScheduleEntry, j.DeleteRequested);

    public static QueueDto ToDto(QueueInfo q) => new(
        q.Name, q.IsPaused, q.PausedReason, q.PausedAt, CountsDto.From(q.Counts), q.OldestWaitingAge?.TotalSeconds, q.WorkerCount);

    /// <param name="s">The entry.</param>
    /// <param name="left">The pauses edited schedules left behind among every entry (<see cref="SchedulePauseLeftBehind.Find"/>).</param>
    public static ScheduleDto ToDto(ScheduleInfo s, IReadOnlyList<SchedulePauseLeftBehind> left) => new(
        s.EntryKey, s.QueueName, s.JobName, s.Schedule, s.LastFireAt, s.NextFireAt, s.IsPaused, s.LastSeenAt, s.IsStale,
        [.. left.Where(p => ReferenceEquals(p.Paused, s)).Select(p => p.Live.EntryKey)],
        [.. left.Where(p => ReferenceEquals(p.Live, s)).Select(p => p.Paused.EntryKey)]);

    public static WorkerDto ToDto(WorkerInfo w) => new(
        w.WorkerId, w.Host, w.ProcessId, w.StartedAt, w.LastHeartbeatAt, w.Queues, w.JobNames, w.RunningCount, w.Concurrency);

    public static AuditDto ToDto(AuditEntry a) => new(a.Id, a.At, a.Actor, a.Action, a.Target, a.Reason, a.RowsChanged);

    /// <summary>Parses a state name (<c>failed</c>) or several (<c>failed,retrying</c>); throws <see cref="ArgumentException"/> for an unknown one.</summary>
    public static IReadOnlyList<JobState>? ParseStates(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        var states = new List<JobState>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!Enum.TryParse<JobState>(part, ignoreCase: true, out var state) || !Enum.IsDefined(state) || int.TryParse(part, out _))
            {
                throw new ArgumentException($"Unknown job state '{part}': use pending, processing, retrying, completed, failed, cancelled or paused.");
            }

            states.Add(state);
        }

        return states;
    }

    public static JobPriority ParsePriority(string? text)
        => Enum.TryParse<JobPriority>(text, ignoreCase: true, out var p) && Enum.IsDefined(p) && !int.TryParse(text, out _)
            ? p
            : throw new ArgumentException($"Unknown priority '{text}': use lowest, lower, normal, higher or highest.");

    /// <summary>The jobs list's filters (queue, state, name, text in the payload, text in the error) as a query.</summary>
    public static JobQuery ToQuery(JobFilterDto filter, int limit, string? cursor) => new()
    {
        Queue = Blank(filter.Queue),
        States = ParseStates(filter.State),
        Names = Blank(filter.Name) is { } name
            ? name.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            : null,
        PayloadText = Blank(filter.Text),
        ErrorText = Blank(filter.Error),
        Order = JobOrder.Newest,
        Limit = limit,
        Cursor = Blank(cursor),
    };

    private static string? Blank(string? s) => string.IsNullOrWhiteSpace(s) ? null : s.Trim();
}
