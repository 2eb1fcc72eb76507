using System.Diagnostics.CodeAnalysis;
namespace Jobs.Sdk.Drivers;

/// <summary>The result of one attempt, reported by a worker (drivers may batch these).</summary>
/// <param name="Id">The job.</param>
/// <param name="Kind">What happened.</param>
/// <param name="Attempt">The attempt that ran.</param>
/// <param name="Delay">For <see cref="JobOutcomeKind.Retry"/> and <see cref="JobOutcomeKind.Reschedule"/>: wait before the next run, measured on the database clock.</param>
/// <param name="NextAttempt">For <see cref="JobOutcomeKind.Reschedule"/>: the attempt number the next run has (after a keep/reset/increment).</param>
/// <param name="Error">For failures: <c>ExceptionType: message</c>.</param>
/// <param name="LeaseToken">The claim this outcome belongs to (<see cref="ClaimedJob.LeaseToken"/>): a driver applies it only while
/// that claim still owns the job, so a late or replayed report changes nothing.</param>
[Experimental(DriverSpi.DiagnosticId, Message = DriverSpi.Message)]
public readonly record struct JobOutcome(JobId Id, JobOutcomeKind Kind, int Attempt, TimeSpan Delay = default, int NextAttempt = 0, string? Error = null, Guid LeaseToken = default)
{
    /// <summary>For failures: the exception with its stack trace and inner exceptions (bounded length), stored next to
    /// <see cref="Error"/> in the attempt's <see cref="JobAttemptError.StackTrace"/>; <see langword="null"/> when there is none.</summary>
    public string? StackTrace { get; init; }

    /// <summary>For <see cref="JobOutcomeKind.Reschedule"/> to a time (<see cref="JobRescheduleException.Until"/>): when the next
    /// run is due, stored as it is and compared with the store's clock (a time already past there means now), so a worker whose
    /// clock is off the store's does not move it; <see cref="Delay"/> is then only this machine's estimate of the wait.
    /// <see langword="null"/>: the next run is due <see cref="Delay"/> after the store records the outcome.</summary>
    public DateTimeOffset? RunAt { get; init; }
}
