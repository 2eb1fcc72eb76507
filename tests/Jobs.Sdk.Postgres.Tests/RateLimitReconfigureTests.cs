using System.Collections.Concurrent;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// A queue's rate limit is removed, or changed, between deployments: its token bucket row stays in
/// <c>queue_rate_limits</c> (nothing deletes it). The row keeps only the tokens and the last refill, never the rate or burst
/// that filled it: every refill caps it at the burst of the claimer, so a stale row gives neither the old burst nor the
/// old rate.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class RateLimitReconfigureTests(PostgresFixture fixture)
{
    /// <summary>One token per 20 minutes: the real clock adds less than one token during the test, however loaded the machine.</summary>
    private static RateLimit Slow(int burst) => RateLimit.PerMinute(0.05) with { Burst = burst };

    /// <summary>
    /// Real workers, one queue, four deployments: rate-limited with burst 10 (2 jobs run: 8 tokens left); no rate limit (20
    /// jobs run, the bucket row untouched); rate limit re-added with burst 3 (10 jobs pushed: 3 run, not the 8 the stale row
    /// held); the bucket idle for a year, re-added with burst 5 (5 more run: a full bucket of the new burst).
    /// </summary>
    [Fact]
    public async Task A_rate_limit_removed_or_changed_and_added_again_gets_the_new_burst_never_the_stale_rows()
    {
        var queueName = "ratecfg_" + Guid.NewGuid().ToString("N")[..8];
        var ran = new ConcurrentDictionary<JobId, int>();

        // Burst 10: two jobs run, eight tokens are left in the row.
        await using (var limited = await HostAsync(Slow(10)))
        {
            await limited.Queue.PushManyAsync([new ValueJob(1), new ValueJob(2)]);
            await limited.StartAsync();
            await TestExtensions.EventuallyAsync(() => Task.FromResult(ran.Count == 2), 60, "the two jobs run");
            Assert.InRange(await TokensAsync(limited), 8, 8.5);
        }

        // The rate limit removed: jobs run unlimited and the bucket row stays as it was.
        await using (var unlimited = await HostAsync(null))
        {
            await unlimited.Queue.PushManyAsync(Enumerable.Range(0, 20).Select(i => new ValueJob(i)));
            await unlimited.StartAsync();
            await TestExtensions.EventuallyAsync(() => Task.FromResult(ran.Count == 22), 60, "the twenty jobs run unlimited");
            Assert.InRange(await TokensAsync(unlimited), 8, 8.5);
        }

        // Added again with burst 3: the stale eight tokens are cut to three.
        await using (var smaller = await HostAsync(Slow(3)))
        {
            await smaller.Queue.PushManyAsync(Enumerable.Range(0, 10).Select(i => new ValueJob(i)));
            await smaller.StartAsync();
            await TestExtensions.EventuallyAsync(async () => ran.Count >= 25 && await TokensAsync(smaller) < 1, 60,
                "three jobs run and the bucket is spent");
            await smaller.StopAsync();
            Assert.Equal(25, ran.Count);
            Assert.Equal(7, (await smaller.Driver.GetCountsAsync(default)).Pending);

            // A year without claims (the queue served elsewhere without a limit, or not at all).
            await smaller.DataSource.ExecAsync(
                $"UPDATE jobs_test.queue_rate_limits SET refilled_at = refilled_at - interval '365 days' WHERE queue_name = '{queueName}'");
        }

        // Added again with burst 5 after the idle year: a full bucket of the new burst, five of the seven waiting jobs.
        await using (var larger = await HostAsync(Slow(5)))
        {
            await larger.StartAsync();
            await TestExtensions.EventuallyAsync(async () => ran.Count >= 30 && await TokensAsync(larger) < 1, 60,
                "five jobs run and the bucket is spent");
            await larger.StopAsync();
            Assert.Equal(30, ran.Count);
            Assert.Equal(2, (await larger.Driver.GetCountsAsync(default)).Pending);
        }

        Task<TestQueue> HostAsync(RateLimit? limit) => TestQueue.CreateAsync(fixture,
            b => b.AddJob<ValueJob>((_, c, _) =>
                {
                    ran[c.Id] = c.Attempt;
                    return Task.CompletedTask;
                })
                .AddQueue(queueName, q => q.RateLimit = limit),
            queueName: queueName);

        async Task<double> TokensAsync(TestQueue q)
        {
            await using var command = q.DataSource.CreateCommand("SELECT tokens FROM jobs_test.queue_rate_limits WHERE queue_name = $1");
            command.Parameters.Add(new Npgsql.NpgsqlParameter<string> { TypedValue = queueName });
            return Convert.ToDouble(await command.ExecuteScalarAsync());
        }
    }
}
