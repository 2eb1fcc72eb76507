namespace Jobs.Sdk;

/// <summary>The error one attempt of a job ended with (see <see cref="JobInfo.Errors"/>).</summary>
/// <param name="Attempt">The attempt (1-based) that failed.</param>
/// <param name="At">When the error was recorded, on the store's clock.</param>
/// <param name="Error">The error, as <c>ExceptionType: message</c> (bounded length).</param>
public sealed record JobAttemptError(int Attempt, DateTimeOffset At, string Error);
