namespace Jobs.Sdk;

/// <summary>The error one attempt of a job ended with (see <see cref="JobInfo.Errors"/>).</summary>
/// <param name="Attempt">The attempt (1-based) that failed.</param>
/// <param name="At">When the error was recorded, on the store's clock.</param>
/// <param name="Error">The error, as <c>ExceptionType: message</c> (bounded length).</param>
public sealed record JobAttemptError(int Attempt, DateTimeOffset At, string Error)
{
    /// <summary>
    /// The exception as <see cref="Exception.ToString"/> renders it (type, message, stack trace and inner exceptions), cut to
    /// <see cref="JobQueueOptions.MaxStackTraceLength"/>; <see langword="null"/> when the attempt ended without a thrown
    /// exception (a lost lease, a job that could not run) or stack traces are not stored.
    /// </summary>
    public string? StackTrace { get; init; }
}
