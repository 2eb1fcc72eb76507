namespace Jobs.Sdk.Tests.Execution;

/// <summary>The <see cref="RateLimit"/> contract and the token-bucket arithmetic the drivers share.</summary>
public sealed class RateLimitTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void A_rate_must_be_a_finite_number_above_zero(double count)
    {
        var perSecond = Assert.Throws<ArgumentOutOfRangeException>(() => RateLimit.PerSecond(count));
        Assert.Equal("count", perSecond.ParamName);
        Assert.Contains("PauseQueueAsync", perSecond.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => RateLimit.PerMinute(count));
    }

    [Fact]
    public void The_default_burst_is_a_fifth_of_a_second_of_tokens_and_at_least_one()
    {
        Assert.Equal(20, RateLimit.PerSecond(100).Burst);
        Assert.Equal(10, RateLimit.PerSecond(50).Burst);
        Assert.Equal(1, RateLimit.PerSecond(2).Burst);
        Assert.Equal(1, RateLimit.PerMinute(30).Burst);
        Assert.Equal(0.5, RateLimit.PerMinute(30).TokensPerSecond);
        Assert.Equal(50, (RateLimit.PerSecond(100) with { Burst = 50 }).Burst);
        Assert.Equal(RateLimit.PerSecond(10), RateLimit.PerSecond(10));
        Assert.Throws<ArgumentOutOfRangeException>(() => RateLimit.PerSecond(10) with { Burst = 0 });
    }

    [Fact]
    public async Task A_rate_limited_worker_starts_the_burst_then_waits_for_tokens_on_its_TimeProvider()
    {
        var time = FakeTime.Create();
        var starts = new System.Collections.Concurrent.ConcurrentQueue<DateTimeOffset>();
        await using var host = TestHost.Create(j => j
            .AddQueue("default", q => q.RateLimit = RateLimit.PerSecond(1) with { Burst = 2 })
            .AddJob<ValueJob>((_, _, _) => { starts.Enqueue(time.GetUtcNow()); return Task.CompletedTask; })
            .AddWorkers(o => o.Concurrency = 4), time);
        await host.Queue.PushManyAsync(Enumerable.Range(0, 4).Select(i => new ValueJob(i)));
        var begin = time.GetUtcNow();
        await host.StartAsync();

        // The full bucket: two jobs at once, and no more however long the real clock runs (the fake one stands still).
        await WorkerTests.WaitUntil(() => starts.Count == 2);
        await WorkerTests.WaitUntil(async () => (await host.Queue.GetCountsAsync()).Processing == 0);
        Assert.Equal(2, (await host.Queue.GetCountsAsync()).Pending);

        // The worker sleeps until the tokens it needs are due on its clock: moving the clock wakes it.
        var advanced = TimeSpan.Zero;
        while (starts.Count < 4)
        {
            Assert.True(advanced < TimeSpan.FromSeconds(30), "the worker woke up for its tokens");
            time.Advance(TimeSpan.FromMilliseconds(250));
            advanced += TimeSpan.FromMilliseconds(250);
            await Task.Yield();
            await WorkerTests.WaitUntil(async () => (await host.Queue.GetCountsAsync()).Processing == 0);
        }

        var times = starts.Select(t => t - begin).ToArray();
        Assert.Equal([TimeSpan.Zero, TimeSpan.Zero], times[..2]);
        Assert.True(times[2] >= TimeSpan.FromSeconds(1), $"third start at {times[2]}: before its token was due");
        Assert.True(times[3] >= TimeSpan.FromSeconds(2), $"fourth start at {times[3]}: before its token was due");
    }

    [Fact]
    public void The_bucket_refills_by_elapsed_time_up_to_the_burst_and_grants_whole_tokens()
    {
        var rate = RateLimit.PerSecond(10) with { Burst = 5 };
        Assert.Equal(1.5, TokenBucket.Refill(0.5, TimeSpan.FromMilliseconds(100), rate), 9);
        Assert.Equal(5, TokenBucket.Refill(1, TimeSpan.FromHours(1), rate));
        Assert.Equal(1, TokenBucket.Refill(1, TimeSpan.FromSeconds(-3), rate)); // a clock step back grants nothing
        Assert.Equal(2, TokenBucket.Grant(2.9999999999, 2));
        Assert.Equal(3, TokenBucket.Grant(2.9999999999, 10));
        Assert.Equal(0, TokenBucket.Grant(0.99, 10));

        // Cut by the bucket: time for the rest (at most a burst) from what is left; cut by the queue: no wait.
        Assert.Equal(TimeSpan.FromMilliseconds(450), TokenBucket.DueIn(rate, wanted: 8, granted: 3, claimed: 3, left: 0.5));
        Assert.Equal(TimeSpan.FromMilliseconds(150), TokenBucket.DueIn(rate, wanted: 5, granted: 3, claimed: 3, left: 0.5));
        Assert.Null(TokenBucket.DueIn(rate, wanted: 8, granted: 3, claimed: 2, left: 1.5));
        Assert.Null(TokenBucket.DueIn(rate, wanted: 3, granted: 3, claimed: 3, left: 0.5));
    }
}
