namespace Jobs.Sdk;

/// <summary>
/// A live worker process (<see cref="JobAdmin.GetWorkersAsync"/>). Workers report themselves on start and at every heartbeat and
/// remove themselves on a graceful stop; a worker that died disappears once its last heartbeat's lease expired.
/// </summary>
public sealed record WorkerInfo
{
    /// <summary>The worker id (also recorded on the jobs it runs).</summary>
    public required string WorkerId { get; init; }
    /// <summary>The machine name.</summary>
    public required string Host { get; init; }
    /// <summary>The operating-system process id.</summary>
    public int ProcessId { get; init; }
    /// <summary>When the worker started.</summary>
    public required DateTimeOffset StartedAt { get; init; }
    /// <summary>When it last reported.</summary>
    public required DateTimeOffset LastHeartbeatAt { get; init; }
    /// <summary>The queues it serves.</summary>
    public IReadOnlyList<string> Queues { get; init; } = [];
    /// <summary>The job names it has handlers for.</summary>
    public IReadOnlyList<string> JobNames { get; init; } = [];
    /// <summary>Jobs running at its last report.</summary>
    public int RunningCount { get; init; }
    /// <summary>Its configured concurrency.</summary>
    public int Concurrency { get; init; }
}
