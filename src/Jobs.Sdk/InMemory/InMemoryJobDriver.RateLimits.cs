using Jobs.Sdk.Drivers;

namespace Jobs.Sdk.InMemory;

// Rate limits: one token bucket per queue (per queue view), refilled on the driver's TimeProvider, under the driver's lock.
public sealed partial class InMemoryJobDriver
{
    private double _tokens;
    private DateTimeOffset? _refilledAt;

    /// <inheritdoc />
    public Task<RateLimitedClaim> ClaimRateLimitedAsync(JobClaimRequest request, CancellationToken cancellationToken)
    {
        var rate = request.RateLimit ?? throw new ArgumentException("A rate-limited claim needs JobClaimRequest.RateLimit.", nameof(request));
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            // A new bucket starts full; the refill time never goes back (a clock step back grants nothing).
            var available = _refilledAt is { } last ? TokenBucket.Refill(_tokens, now - last, rate) : rate.Burst;
            _refilledAt = _refilledAt is { } previous && previous > now ? previous : now;
            var granted = TokenBucket.Grant(available, request.MaxJobs);
            var claimed = granted == 0 ? [] : ClaimAsync(request with { MaxJobs = granted }, cancellationToken).Result;
            _tokens = available - claimed.Count;
            return Task.FromResult(new RateLimitedClaim(claimed, TokenBucket.DueIn(rate, request.MaxJobs, granted, claimed.Count, _tokens)));
        }
    }
}
