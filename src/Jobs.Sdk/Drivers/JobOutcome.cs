using System.Diagnostics.CodeAnalysis;
namespace Jobs.Sdk.Drivers;

/// <summary>The result of one attempt, reported by a worker (drivers may batch these).</summary>
/// <param name="Id">The job.</param>
/// <param name="Kind">What happened.</param>
/// <param name="Attempt">The attempt that ran.</param>
/// <param name="Delay">For <see cref="JobOutcomeKind.Retry"/> and <see cref="JobOutcomeKind.Reschedule"/>: wait before the next run, measured on the database clock.</param>
/// <param name="NextAttempt">For <see cref="JobOutcomeKind.Reschedule"/>: the attempt number the next run has (after a keep/reset/increment).</param>
/// <param name="Error">For failures: <c>ExceptionType: message</c>.</param>
[Experimental(DriverSpi.DiagnosticId, Message = DriverSpi.Message)]
public readonly record struct JobOutcome(JobId Id, JobOutcomeKind Kind, int Attempt, TimeSpan Delay = default, int NextAttempt = 0, string? Error = null);
