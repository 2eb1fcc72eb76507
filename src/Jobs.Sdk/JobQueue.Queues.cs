namespace Jobs.Sdk;

/// <content>
/// Counts and cleanup over the queues this process knows: the default queue, every queue declared with <c>AddQueue</c>
/// or named by a registered job type (<c>[Job(Queue = ...)]</c>), and any queue pushed to since it started. The overloads
/// taking a queue name act on that one queue. For every queue of the store (including ones no process here serves),
/// see <see cref="GetQueuesAsync"/>.
/// </content>
public sealed partial class JobQueue
{
    /// <summary>
    /// Counts jobs per state, summed over every queue this process knows: the default queue, the queues declared with
    /// <c>AddQueue</c> or named by registered job types, and queues pushed to since start. One queue:
    /// <see cref="GetCountsAsync(string, CancellationToken)"/>.
    /// </summary>
    public async Task<JobCounts> GetCountsAsync(CancellationToken cancellationToken = default)
    {
        var sum = new JobCounts();
        foreach (var queue in _runtime.KnownQueues())
        {
            var c = await queue.Driver.GetCountsAsync(cancellationToken).ConfigureAwait(false);
            sum = new JobCounts
            {
                Pending = sum.Pending + c.Pending,
                Processing = sum.Processing + c.Processing,
                Retrying = sum.Retrying + c.Retrying,
                Completed = sum.Completed + c.Completed,
                Failed = sum.Failed + c.Failed,
                Cancelled = sum.Cancelled + c.Cancelled,
                Paused = sum.Paused + c.Paused,
            };
        }

        return sum;
    }

    /// <summary>Counts the jobs of queue <paramref name="queue"/> per state.</summary>
    /// <param name="queue">The queue's name (any queue of the store).</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    public Task<JobCounts> GetCountsAsync(string queue, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(queue);
        return _runtime.ForQueue(queue).Driver.GetCountsAsync(cancellationToken);
    }

    /// <summary>
    /// Runs one cleanup pass (an action per state) over every queue this process knows (as <see cref="GetCountsAsync(CancellationToken)"/>
    /// counts them), one queue after another. One queue: <see cref="CleanupAsync(string, CleanupOptions, CancellationToken)"/>.
    /// </summary>
    public async Task CleanupAsync(CleanupOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        foreach (var queue in _runtime.KnownQueues())
        {
            await queue.Driver.CleanupAsync(options, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Runs one cleanup pass (an action per state) over queue <paramref name="queue"/>.</summary>
    /// <param name="queue">The queue's name (any queue of the store).</param>
    /// <param name="options">The action per state.</param>
    /// <param name="cancellationToken">Cancels the pass.</param>
    public Task CleanupAsync(string queue, CleanupOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(queue);
        ArgumentNullException.ThrowIfNull(options);
        return _runtime.ForQueue(queue).Driver.CleanupAsync(options, cancellationToken);
    }
}
