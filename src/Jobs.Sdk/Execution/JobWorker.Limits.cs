using Jobs.Sdk.Drivers;

namespace Jobs.Sdk;

/// <content>Claims under a queue's limits (<see cref="QueueOptions.RateLimit"/>, <see cref="QueueOptions.GlobalConcurrency"/>), and the waits after a claim they cut short.</content>
public sealed partial class JobWorker
{
    /// <summary>The shortest wait for tokens (a bucket a hair short of a token does not spin).</summary>
    private static readonly TimeSpan MinTokenWait = TimeSpan.FromMilliseconds(1);

    /// <summary>
    /// The claim: rate-limited when the queue has a rate limit (then also when tokens are due, if they ran out). The first
    /// one to return, with jobs, none or an error, lets the rescuer start (<see cref="JobRescuer.RunAsync"/>).
    /// </summary>
    private async Task<(IReadOnlyList<ClaimedJob> Jobs, TimeSpan? TokensDueIn)> ClaimAsync(JobClaimRequest request, CancellationToken cancellationToken)
    {
        try
        {
            if (request.RateLimit is null)
            {
                return (await _driver.ClaimAsync(request, cancellationToken).ConfigureAwait(false), null);
            }

            var result = await _driver.ClaimRateLimitedAsync(request, cancellationToken).ConfigureAwait(false);
            return (result.Jobs, result.TokensDueIn);
        }
        finally
        {
            if (!_firstClaimReturned.Task.IsCompleted)
            {
                _firstClaimReturned.TrySetResult();
            }
        }
    }

    /// <summary>
    /// How long a globally limited queue waits after a claim the limit may have cut short (some jobs, fewer than asked):
    /// room comes back when outcomes are written anywhere in the cluster, which notifies nobody.
    /// </summary>
    private static readonly TimeSpan GlobalLimitRecheck = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// After a claim that filled fewer slots than it asked for: when the bucket ran dry, waits until the tokens for the
    /// free slots are due (computed from the rate, not polled); when a global concurrency limit may have cut the claim
    /// (it took some jobs, not all), waits for work at most <see cref="GlobalLimitRecheck"/>; else until the driver
    /// signals work or its poll interval passes.
    /// </summary>
    private async Task WaitAfterShortClaimAsync(int claimed, TimeSpan? tokensDueIn, CancellationToken cancellationToken)
    {
        if (tokensDueIn is { } due)
        {
            await WorkerDelay.DelayAsync(due < MinTokenWait ? MinTokenWait : due, _time, cancellationToken).ConfigureAwait(false);
        }
        else if (_globalConcurrency is not null && claimed > 0)
        {
            using var brief = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            brief.CancelAfter(GlobalLimitRecheck);
            await _driver.WaitForWorkAsync(brief.Token).ConfigureAwait(false);
        }
        else
        {
            await _driver.WaitForWorkAsync(cancellationToken).ConfigureAwait(false);
        }
    }
}
