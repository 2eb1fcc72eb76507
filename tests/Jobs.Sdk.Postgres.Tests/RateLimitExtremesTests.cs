using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>Rate limits at the edges of what <see cref="RateLimit"/> accepts: the worker keeps claiming whatever the rate.</summary>
[Collection(PostgresCollection.Name)]
public sealed class RateLimitExtremesTests(PostgresFixture fixture)
{
    /// <summary>
    /// One start per 69 days: after a claim that emptied the bucket, the worker waits for the next token. That wait used to
    /// be handed to <c>Task.Delay</c> whole, which takes at most 49.7 days: it threw, and the queue's claim loop ended for
    /// good (no job of the queue ran again in that process, whatever the bucket held later).
    /// </summary>
    [Fact]
    public async Task A_queue_limited_to_one_start_per_69_days_claims_again_when_its_bucket_has_a_token()
    {
        var queueName = "tinyrate_" + Guid.NewGuid().ToString("N")[..8];
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var ran = new Recorder<int>();
        await using var q = await TestQueue.CreateAsync(fixture, b =>
        {
            b.Services.AddSingleton<TimeProvider>(time);
            b.AddJob<ValueJob>((job, _, _) =>
            {
                ran.Add(job.Value);
                return Task.CompletedTask;
            }).AddQueue(queueName, o => o.RateLimit = RateLimit.PerMinute(0.00001));
        }, queueName: queueName);
        await q.Queue.PushManyAsync([new ValueJob(1), new ValueJob(2)]);
        await q.StartAsync();

        // The bucket's first token runs the first job; the next is due in 69 days.
        await ran.WaitForCountAsync(1);
        await q.DataSource.ExecAsync($"UPDATE jobs_test.queue_rate_limits SET tokens = 1 WHERE queue_name = '{queueName}'");

        // The token is there now (an operator's fix, or 69 days later): the worker's wait ends on its clock and it claims.
        await TestExtensions.EventuallyAsync(() =>
        {
            time.Advance(TimeSpan.FromHours(1));
            return Task.FromResult(ran.Count == 2);
        }, 60, "the second job runs once its token is in the bucket");
        Assert.Null(q.Worker.ClaimLoopFault);
    }
}
