namespace Jobs.Sdk;

/// <summary>Everything stored about one job (<see cref="JobAdmin.GetJobAsync"/>).</summary>
public sealed record JobDetails : JobSummary
{
    /// <summary>The payload as JSON text.</summary>
    public required string Payload { get; init; }

    /// <summary>The headers stored with the job (trace context, schedule entry); empty when none.</summary>
    public IReadOnlyDictionary<string, string> Headers { get; init; } = EmptyHeaders;

    /// <summary>
    /// The errors of failed attempts, oldest first. Stores keep the latest error today, so this holds at most one entry (with the
    /// attempt it belongs to); the type is a list so a store that keeps a history can return all of them.
    /// </summary>
    public IReadOnlyList<JobAttemptError> Errors { get; init; } = [];

    /// <summary>When the running attempt's lease expires (processing jobs only).</summary>
    public DateTimeOffset? LeaseExpiresAt { get; init; }

    /// <summary>Whether a user asked to cancel the running attempt.</summary>
    public bool CancelRequested { get; init; }

    /// <summary>When the job's row last changed.</summary>
    public DateTimeOffset? UpdatedAt { get; init; }

    /// <summary>The W3C trace id from the job's <c>traceparent</c> header, when it has one.</summary>
    public string? TraceId => Headers.TryGetValue(JobHeaders.TraceParent, out var tp) ? ParseTraceId(tp) : null;

    /// <summary>The schedule entry that pushed the job, when a scheduler did.</summary>
    public string? ScheduleEntry => Headers.TryGetValue(JobHeaders.ScheduleEntry, out var key) ? key : null;

    private static readonly IReadOnlyDictionary<string, string> EmptyHeaders = new Dictionary<string, string>(0);

    private static string? ParseTraceId(string traceParent)
    {
        // version-traceid-spanid-flags: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01
        var parts = traceParent.Split('-');
        return parts.Length >= 4 && parts[1].Length == 32 ? parts[1] : null;
    }
}
