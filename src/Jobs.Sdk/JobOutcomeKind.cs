namespace Jobs.Sdk;

/// <summary>How a claimed job's attempt ended, as reported to the driver.</summary>
public enum JobOutcomeKind
{
    /// <summary>Succeeded; the job is finished.</summary>
    Completed,
    /// <summary>Failed for good.</summary>
    Failed,
    /// <summary>Failed; runs again after the outcome's delay as the next attempt (state <see cref="JobState.Retrying"/>).</summary>
    Retry,
    /// <summary>Asked to run again later without a failure (<see cref="JobRescheduleException"/>).</summary>
    Reschedule,
    /// <summary>Interrupted by shutdown: back to pending, the attempt not counted.</summary>
    Release,
    /// <summary>Cancelled by a user while running.</summary>
    Cancelled,
}
