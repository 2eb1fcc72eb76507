namespace Jobs.Sdk;

/// <summary>How a claimed job's attempt ended, as reported to the driver.</summary>
/// <remarks>The numeric values are part of the driver contract (drivers store and pass them, for example to SQL): never renumber.</remarks>
public enum JobOutcomeKind
{
    /// <summary>Succeeded; the job is finished.</summary>
    Completed = 0,
    /// <summary>Failed for good.</summary>
    Failed = 1,
    /// <summary>Failed; runs again after the outcome's delay as the next attempt (state <see cref="JobState.Retrying"/>).</summary>
    Retry = 2,
    /// <summary>Asked to run again later without a failure (<see cref="JobRescheduleException"/>).</summary>
    Reschedule = 3,
    /// <summary>Interrupted by shutdown: back to pending, the attempt not counted.</summary>
    Release = 4,
    /// <summary>Cancelled by a user while running.</summary>
    Cancelled = 5,
}
