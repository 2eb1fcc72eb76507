namespace Jobs.Sdk;

/// <summary>Who did a mutating <see cref="JobAdmin"/> call, and why (written to the audit log and the logs).</summary>
/// <param name="Actor">The user or system acting (e.g. a user name, <c>cli:alice</c>).</param>
/// <param name="Reason">Why (free text).</param>
public sealed record AuditInfo(string? Actor = null, string? Reason = null);

/// <summary>One mutating admin call, as kept by the audit log (<see cref="JobAdmin.GetAuditLogAsync"/>).</summary>
public sealed record AuditEntry
{
    /// <summary>Increasing id (order of recording).</summary>
    public long Id { get; init; }
    /// <summary>When the call finished.</summary>
    public required DateTimeOffset At { get; init; }
    /// <summary>Who acted (<see cref="AuditInfo.Actor"/>).</summary>
    public string? Actor { get; init; }
    /// <summary>What was done: <c>retry</c>, <c>cancel</c>, <c>delete</c>, <c>set-priority</c>, <c>run-now</c>, <c>queue.pause</c>, ...</summary>
    public required string Action { get; init; }
    /// <summary>What it was done to (a job list, a query, a queue or schedule entry name).</summary>
    public required string Target { get; init; }
    /// <summary>Why (<see cref="AuditInfo.Reason"/>).</summary>
    public string? Reason { get; init; }
    /// <summary>How many rows the call changed.</summary>
    public int RowsChanged { get; init; }
}
