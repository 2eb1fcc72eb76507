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
}
