namespace Jobs.Sdk;

/// <summary>Well-known header names stored with jobs.</summary>
public static class JobHeaders
{
    /// <summary>W3C trace context of the push (<c>traceparent</c>).</summary>
    public const string TraceParent = "traceparent";
    /// <summary>W3C trace state of the push (<c>tracestate</c>).</summary>
    public const string TraceState = "tracestate";
    /// <summary>For scheduled jobs: the fire time (ISO 8601).</summary>
    public const string ScheduledAt = "jobs.scheduled_at";
    /// <summary>For scheduled jobs: the next fire time (ISO 8601).</summary>
    public const string NextScheduledAt = "jobs.next_scheduled_at";
    /// <summary>For scheduled jobs: the schedule entry key.</summary>
    public const string ScheduleEntry = "jobs.schedule_entry";
}
