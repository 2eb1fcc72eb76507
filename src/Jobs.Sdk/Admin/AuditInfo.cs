namespace Jobs.Sdk;

/// <summary>
/// Who did a mutating <see cref="JobAdmin"/> call, and why (written to the audit log and the logs). Both are sent back with
/// every listing of the audit log (and a pause reason with every queue listing), so <see cref="JobAdmin"/> refuses an actor
/// longer than <see cref="MaxActorLength"/> or a reason longer than <see cref="MaxReasonLength"/> characters before it acts.
/// </summary>
/// <param name="Actor">The user or system acting (e.g. a user name, <c>cli:alice</c>); at most <see cref="MaxActorLength"/> characters.</param>
/// <param name="Reason">Why (free text); at most <see cref="MaxReasonLength"/> characters.</param>
public sealed record AuditInfo(string? Actor = null, string? Reason = null)
{
    /// <summary>The longest <see cref="Actor"/>, in characters (UTF-16 code units): 200.</summary>
    public const int MaxActorLength = 200;

    /// <summary>The longest <see cref="Reason"/> (and pause reason of <see cref="JobAdmin.PauseQueueAsync"/>), in characters (UTF-16 code units): 1,000.</summary>
    public const int MaxReasonLength = 1000;
}

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
    /// <summary>What it was done to (a job list, a query, a queue name, or a schedule entry as <c>{key} (queue {queue name})</c>).</summary>
    public required string Target { get; init; }
    /// <summary>Why (<see cref="AuditInfo.Reason"/>).</summary>
    public string? Reason { get; init; }
    /// <summary>How many rows the call changed.</summary>
    public int RowsChanged { get; init; }
}
