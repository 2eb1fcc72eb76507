namespace Jobs.Sdk.InMemory;

// Queue pauses as workers see them: the paused event of the queue's view, and the flag.
public sealed partial class InMemoryJobDriver
{
    /// <inheritdoc />
    /// <remarks>Each handler runs on its own, on the thread pool: one that throws is logged (event 1022) and the others still run.</remarks>
    public event Action? QueuePaused;

    /// <inheritdoc />
    public Task<bool> IsQueuePausedAsync(CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<bool>(cancellationToken);
        }

        lock (_gate)
        {
            return Task.FromResult(IsQueuePaused);
        }
    }

    /// <summary>Tells the workers of <paramref name="queue"/>'s view (under the lock; handlers run on the thread pool, each on its own).</summary>
    private void RaiseQueuePaused(string queue)
    {
        var root = _root ?? this;
        var view = string.Equals(queue, root.QueueName, StringComparison.Ordinal) ? root : root._views.GetValueOrDefault(queue);
        if (view?.QueuePaused is { } handlers)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static state => RunQueuePausedHandlers(state.Handlers, state.Logger, state.Queue),
                (Handlers: handlers, Logger: ObserverLog, Queue: queue), preferLocal: false);
        }
    }
}
