namespace Jobs.Sdk;

/// <content>Liveness facts read by <see cref="JobsHealthCheck"/>.</content>
public sealed partial class JobWorker
{
    /// <summary>Whether <see cref="StartAsync"/> was called.</summary>
    internal bool IsStarted => Volatile.Read(ref _started) != 0;

    /// <summary>The lease duration: the heartbeat runs every third of it.</summary>
    internal TimeSpan LeaseDuration => _options.LeaseDuration;

    /// <summary>
    /// Time since the claim loop or the heartbeat last ran (on the worker's <see cref="TimeProvider"/>);
    /// <see langword="null"/> when neither has run yet (the store is not ready, or the worker was not started).
    /// </summary>
    internal TimeSpan? TimeSinceAlive => _leases.TimeSinceAlive;

    /// <summary>Whether the claim loop has ended (tests: it must end, and not fault, even after a disposal it outlived).</summary>
    internal bool ClaimLoopCompleted => _claimLoop is { IsCompleted: true };

    /// <summary>Whether the outcome writer has ended (tests: a stop that gave up on the store must not leave it retrying).</summary>
    internal bool CompleterLoopCompleted => _completerLoop is { IsCompleted: true };

    /// <summary>What the claim loop faulted with, if it did.</summary>
    internal Exception? ClaimLoopFault => _claimLoop?.Exception;
}
