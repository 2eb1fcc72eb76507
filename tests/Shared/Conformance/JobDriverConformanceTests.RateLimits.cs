using Jobs.Sdk.Drivers;
using Xunit;

namespace Jobs.Sdk.Testing;

/// <summary>
/// Issue 16: rate-limited claims (<see cref="IJobDriver.ClaimRateLimitedAsync"/>), a token bucket per queue kept by the
/// store. The rate is slow (one token per 20 minutes) so that the real clock of a database moves the bucket by less than
/// a token during a test, however loaded the machine; time the test wants to pass is added by
/// <see cref="AgeRateLimitBucketAsync"/>.
/// </summary>
public abstract partial class JobDriverConformanceTests
{
    /// <summary>One token per 20 minutes, at most 3 at once.</summary>
    private static readonly RateLimit SlowRate = RateLimit.PerMinute(0.05) with { Burst = 3 };

    /// <summary>The time <see cref="SlowRate"/> takes for one token.</summary>
    private static readonly TimeSpan TokenTime = TimeSpan.FromMinutes(20);

    /// <summary>Makes the last refill of <paramref name="driver"/>'s queue bucket <paramref name="by"/> longer ago, on the driver's clock.</summary>
    protected abstract Task AgeRateLimitBucketAsync(IJobDriver driver, TimeSpan by);

    private async Task<RateLimitedClaim> ClaimRatedAsync(IJobDriver d, string worker, int max, RateLimit rate)
    {
        var result = await d.ClaimRateLimitedAsync(new JobClaimRequest(worker, max, Minute) { RateLimit = rate }, default);
        foreach (var job in result.Jobs)
        {
            _tokens[job.Id] = job.LeaseToken;
        }

        return result;
    }

    [Fact]
    public async Task Rate_limited_claims_take_at_most_the_bucket_and_wait_for_tokens_computed_from_the_rate()
    {
        var d = await DriverAsync();
        await d.PushAsync(Enumerable.Range(0, 10).Select(i => Record(i)).ToList(), null, default);

        // A new bucket starts full: the burst, and then the time for the next burst's worth of tokens.
        var first = await ClaimRatedAsync(d, "a", 10, SlowRate);
        Assert.Equal(3, first.Jobs.Count);
        Assert.InRange(first.TokensDueIn!.Value, 2.5 * TokenTime, 3 * TokenTime);

        // Empty: another worker gets nothing, and is told when a token for its one slot is due (at most one token's time).
        var empty = await ClaimRatedAsync(d, "b", 1, SlowRate);
        Assert.Empty(empty.Jobs);
        Assert.InRange(empty.TokensDueIn!.Value, TimeSpan.FromMilliseconds(1), TokenTime);

        // Two tokens' time later: two tokens.
        await AgeRateLimitBucketAsync(d, 2 * TokenTime);
        Assert.Equal(2, (await ClaimRatedAsync(d, "b", 10, SlowRate)).Jobs.Count);

        // An hour later: no more than the burst.
        await AgeRateLimitBucketAsync(d, TimeSpan.FromHours(1));
        Assert.Equal(3, (await ClaimRatedAsync(d, "c", 10, SlowRate)).Jobs.Count);
        Assert.Equal(8, (await d.GetCountsAsync(default)).Processing);
    }

    [Fact]
    public async Task A_rate_limited_claim_spends_only_the_tokens_of_the_jobs_it_claimed()
    {
        var d = await DriverAsync();
        await d.PushAsync([Record(1)], null, default);

        var one = await ClaimRatedAsync(d, "a", 10, SlowRate);
        Assert.Single(one.Jobs);
        Assert.Null(one.TokensDueIn); // the queue, not the bucket, ran out

        await d.PushAsync(Enumerable.Range(0, 5).Select(i => Record(i)).ToList(), null, default);
        var rest = await ClaimRatedAsync(d, "a", 10, SlowRate);
        Assert.Equal(2, rest.Jobs.Count); // the two tokens left
        Assert.NotNull(rest.TokensDueIn);
    }

    [Fact]
    public async Task Each_queue_has_its_own_rate_limit_bucket()
    {
        var d = await DriverAsync();
        var other = d.ForQueue(d.QueueName + "-other");
        await d.PushAsync(Enumerable.Range(0, 5).Select(i => Record(i)).ToList(), null, default);
        await other.PushAsync(Enumerable.Range(0, 5).Select(i => Record(i)).ToList(), null, default);

        Assert.Equal(3, (await ClaimRatedAsync(d, "a", 10, SlowRate)).Jobs.Count);
        Assert.Equal(3, (await ClaimRatedAsync(other, "a", 10, SlowRate)).Jobs.Count);
        Assert.Empty((await ClaimRatedAsync(d, "a", 10, SlowRate)).Jobs);
    }
}
