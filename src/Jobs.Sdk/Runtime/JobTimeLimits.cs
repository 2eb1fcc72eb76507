namespace Jobs.Sdk;

/// <summary>
/// The longest duration an option may hold: every interval, timeout and lease ends up in a timer (<c>Task.Delay</c>,
/// <c>CancelAfter</c>, <c>WaitAsync</c>), and .NET refuses timers longer than <see cref="uint.MaxValue"/> − 1 milliseconds
/// (<see cref="JobAttribute.MaxTimeoutSeconds"/>, about 49.7 days). A longer value accepted at start-up would throw later
/// from inside a loop (a worker that never claims, a stop that throws), so the options refuse it when checked.
/// </summary>
internal static class JobTimeLimits
{
    /// <summary>The longest accepted duration: <see cref="JobAttribute.MaxTimeoutSeconds"/> seconds.</summary>
    public static readonly TimeSpan MaxTimer = TimeSpan.FromSeconds(JobAttribute.MaxTimeoutSeconds);

    /// <summary>Throws when <paramref name="value"/> is longer than <see cref="MaxTimer"/>; <paramref name="option"/> names it ("JobWorkerOptions.LeaseDuration").</summary>
    public static void CheckTimer(TimeSpan value, string option, string paramName)
    {
        if (value > MaxTimer)
        {
            throw new ArgumentOutOfRangeException(paramName, value,
                $"{option} must be at most {JobAttribute.MaxTimeoutSeconds} seconds (about 49.7 days, the longest timer .NET accepts).");
        }
    }
}
