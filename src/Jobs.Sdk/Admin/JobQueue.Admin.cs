namespace Jobs.Sdk;

// Queue flow control on JobQueue (issue 16's names), delegating to the same store and audit log as JobAdmin.
public sealed partial class JobQueue
{
    /// <summary>Resolves the <see cref="JobAdmin"/> of the container (set by <c>AddJobs</c>).</summary>
    internal Func<JobAdmin?>? AdminResolver { get; init; }

    /// <summary>
    /// Pauses claims of <paramref name="queue"/> on every worker of the cluster (persisted; takes effect at each worker's next
    /// claim). Running jobs finish; pushes are still accepted. Audited like <see cref="JobAdmin.PauseQueueAsync"/>.
    /// </summary>
    /// <returns>Whether the queue was running before.</returns>
    public Task<bool> PauseQueueAsync(string queue, string? reason = null, CancellationToken cancellationToken = default)
        => RequireAdmin().PauseQueueAsync(queue, reason, null, cancellationToken);

    /// <summary>Resumes claims of <paramref name="queue"/>.</summary>
    /// <returns>Whether the queue was paused before.</returns>
    public Task<bool> ResumeQueueAsync(string queue, CancellationToken cancellationToken = default)
        => RequireAdmin().ResumeQueueAsync(queue, null, cancellationToken);

    /// <summary>Every queue of the store: name, paused (why, since when), counts per state, oldest waiting job's age, live workers.</summary>
    public Task<IReadOnlyList<QueueInfo>> GetQueuesAsync(CancellationToken cancellationToken = default)
        => RequireAdmin().GetQueuesAsync(cancellationToken);

    private JobAdmin RequireAdmin() => AdminResolver?.Invoke() ?? throw new InvalidOperationException(
        $"Queue administration needs a driver with an admin store (the in-memory and PostgreSQL drivers have one); the driver of queue '{QueueName}' " +
        $"({_runtime.Driver.GetType().Name}) has none, or this JobQueue was not created by AddJobs.");
}
