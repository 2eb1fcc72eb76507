namespace Jobs.Sdk.Tests.Execution;

/// <summary>The built-in exponential backoff at the edges: late attempts and the longest <c>maxBackoff</c>.</summary>
public class RetryBackoffExtremesTests
{
    /// <summary>
    /// <c>maxBackoff: TimeSpan.MaxValue</c> ("no cap"): from attempt 40 on, 2^n seconds reach the cap and the jitter
    /// (above 1 in about half of the draws) took the wait past what a <see cref="TimeSpan"/> holds: <c>GetDelay</c> threw
    /// <see cref="OverflowException"/>, so each such failure logged event 1106 and was retried on the queue's default
    /// backoff instead.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(40)]
    [InlineData(60)]
    [InlineData(100)]
    [InlineData(int.MaxValue - 1)]
    public void The_longest_max_backoff_gives_a_delay_at_every_attempt(int attempt)
    {
        var strategy = JobRetryStrategy.ExponentialJitter(maxAttempts: int.MaxValue, maxBackoff: TimeSpan.MaxValue);
        for (var draw = 0; draw < 100; draw++)
        {
            Assert.True(strategy.GetDelay(attempt, new InvalidOperationException()) > TimeSpan.Zero);
        }
    }
}
