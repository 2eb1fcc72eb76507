using Jobs.Sdk.Drivers;

namespace Jobs.Sdk;

/// <content>Claims under a queue's rate limit (<see cref="QueueOptions.RateLimit"/>), and the wait for tokens.</content>
public sealed partial class JobWorker
{
    /// <summary>The shortest wait for tokens (a bucket a hair short of a token does not spin).</summary>
    private static readonly TimeSpan MinTokenWait = TimeSpan.FromMilliseconds(1);

    /// <summary>The claim: rate-limited when the queue has a rate limit (then also when tokens are due, if they ran out).</summary>
    private async Task<(IReadOnlyList<ClaimedJob> Jobs, TimeSpan? TokensDueIn)> ClaimAsync(JobClaimRequest request, CancellationToken cancellationToken)
    {
        if (request.RateLimit is null)
        {
            return (await _driver.ClaimAsync(request, cancellationToken).ConfigureAwait(false), null);
        }

        var result = await _driver.ClaimRateLimitedAsync(request, cancellationToken).ConfigureAwait(false);
        return (result.Jobs, result.TokensDueIn);
    }

    /// <summary>
    /// After a claim that filled fewer slots than it asked for: when the bucket ran dry, waits until the tokens for the
    /// free slots are due (computed from the rate, not polled); else until the driver signals work or its poll interval.
    /// </summary>
    private Task WaitForWorkOrTokensAsync(TimeSpan? tokensDueIn, CancellationToken cancellationToken)
        => tokensDueIn is { } due
            ? WorkerDelay.DelayAsync(due < MinTokenWait ? MinTokenWait : due, _time, cancellationToken)
            : _driver.WaitForWorkAsync(cancellationToken);
}
