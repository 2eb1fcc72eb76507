using System.Diagnostics;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// A unique push whose key a job already holds stores nothing (<see cref="JobPushResult.Inserted"/> false, the holder's id):
/// README "Metrics" counts in <c>jobs.pushed</c> the jobs a push stored, and its span names the job the caller got back.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class UniquePushTelemetryTests(PostgresFixture fixture)
{
    /// <summary>
    /// Three unique pushes of one key (one alone, then one in a batch with a new key) and one of a new key: two jobs are
    /// stored, so <c>jobs.pushed</c> adds up to two (it added up to four: every record handed to the store counted); the
    /// span of the single push that found its key held carries the holder's id as <c>messaging.message.id</c>, the id the
    /// caller got (it carried an id no job has).
    /// </summary>
    [Fact]
    public async Task A_unique_push_that_finds_its_key_held_is_not_counted_and_its_span_names_the_holding_job()
    {
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<UniqueValueJob>((_, _, _) => Task.CompletedTask));
        using var spans = new ActivityCollector(q.Driver.QueueName);
        using var metrics = new MetricCollector(q.Driver.QueueName);

        JobPushResult first, held;
        IReadOnlyList<JobPushResult> batch;
        using (new Activity("request").SetIdFormat(ActivityIdFormat.W3C).Start())
        {
            first = await q.Queue.TryPushAsync(new UniqueValueJob(5));
            held = await q.Queue.TryPushAsync(new UniqueValueJob(5));
            batch = await q.Queue.TryPushManyAsync([new UniqueValueJob(5), new UniqueValueJob(6)]);
        }

        Assert.True(first.Inserted);
        Assert.False(held.Inserted);
        Assert.Equal(first.Id, held.Id);
        Assert.Equal([false, true], batch.Select(r => r.Inserted));
        Assert.Equal(2, await q.DataSource.ScalarAsync($"SELECT count(*) FROM jobs_test.jobs WHERE queue_name = '{q.Driver.QueueName}'"));
        Assert.Equal(2, metrics.Sum(JobsDiagnostics.PushedInstrument));

        var sends = spans.Spans.Where(s => s.OperationName == "send test.unique-value").ToArray();
        Assert.Equal(3, sends.Length);
        Assert.Equal(first.Id.ToString(), sends[0].GetTagItem("messaging.message.id"));
        Assert.Equal(held.Id.ToString(), sends[1].GetTagItem("messaging.message.id"));
        Assert.Equal(2, sends[2].GetTagItem("messaging.batch.message_count"));
    }
}
