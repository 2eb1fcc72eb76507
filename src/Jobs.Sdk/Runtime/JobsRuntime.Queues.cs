using System.Collections.Concurrent;

namespace Jobs.Sdk;

/// <content>
/// Many queues in one process: the runtime of the driver's own queue is the root; every other queue gets a runtime on a
/// view of the same driver (<see cref="Drivers.IJobDriver.ForQueue"/>), created once and shared by pushes and workers.
/// </content>
internal sealed partial class JobsRuntime
{
    private readonly JobsRuntime? _root;
    private readonly ConcurrentDictionary<string, JobsRuntime> _queues = new(StringComparer.Ordinal);

    /// <summary>
    /// The runtime of <paramref name="queue"/> (<see langword="null"/> or this queue's name: this runtime); a name no queue
    /// can have throws <see cref="ArgumentException"/> naming <paramref name="paramName"/>.
    /// </summary>
    public JobsRuntime ForQueue(string? queue, string paramName = "queue")
    {
        if (_root is not null)
        {
            return _root.ForQueue(queue, paramName);
        }

        if (queue is null || string.Equals(queue, QueueName, StringComparison.Ordinal))
        {
            return this;
        }

        JobTextLimits.CheckQueueName(queue, paramName);

        return _queues.GetOrAdd(queue, static (q, root) => new JobsRuntime(root, root.Driver.ForQueue(q)), this);
    }

    /// <summary>This queue's runtime first, then every other queue used so far in this process (lookups by job id).</summary>
    public IEnumerable<JobsRuntime> KnownQueues()
    {
        var root = _root ?? this;
        yield return root;
        foreach (var queue in root._queues.Values)
        {
            yield return queue;
        }
    }
}
