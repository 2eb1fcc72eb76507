namespace Jobs.Sdk;

/// <summary>The waits of the worker's loops: backoff after store errors, and delays that end quietly on cancellation.</summary>
internal static class WorkerDelay
{
    /// <summary>The longest <see cref="Backoff"/>.</summary>
    public static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(5);

    /// <summary>100 ms doubling per consecutive failure, at most <see cref="MaxBackoff"/>.</summary>
    public static TimeSpan Backoff(int failures)
        => TimeSpan.FromMilliseconds(Math.Min(MaxBackoff.TotalMilliseconds, 100 * Math.Pow(2, Math.Min(failures - 1, 10))));

    /// <summary>Waits <paramref name="delay"/> on <paramref name="time"/>; returns early (without throwing) on cancellation.</summary>
    public static async Task DelayAsync(TimeSpan delay, TimeProvider time, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(delay, time, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }
}
