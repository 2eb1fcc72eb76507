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
}
