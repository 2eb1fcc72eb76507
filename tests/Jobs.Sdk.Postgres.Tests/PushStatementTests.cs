namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// What a push sends (issue 15, concurrent single pushers): the common push, one unkeyed job outside a caller's
/// transaction, is a bare <c>INSERT … VALUES</c> (no key locks, no CTE, no notification in its statement), and the job
/// it stores runs like any other.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class PushStatementTests(PostgresFixture fixture)
{
    [Fact]
    public async Task A_single_unkeyed_push_outside_a_transaction_is_a_bare_insert_and_the_job_runs()
    {
        await using var sent = new SentBatches(fixture);
        var ran = new Recorder<int>();
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>((job, _, _) => { ran.Add(job.Value); return Task.CompletedTask; }),
            dataSource: sent.DataSource);

        sent.Batches.Clear();
        var id = await q.Queue.PushAsync(new ValueJob(7), new JobOptions { Priority = JobPriority.Highest });

        var push = Assert.Single(sent.Batches, b => b.Any(c => c.Contains("INSERT INTO", StringComparison.Ordinal)));
        var insert = push[0].Trim();
        Assert.StartsWith("INSERT INTO", insert, StringComparison.Ordinal);
        Assert.Contains("VALUES", insert, StringComparison.Ordinal);
        Assert.DoesNotContain("WITH", insert, StringComparison.Ordinal);
        Assert.DoesNotContain("pg_notify", insert, StringComparison.Ordinal);
        Assert.DoesNotContain("advisory", insert, StringComparison.Ordinal);

        // The row is what the full statement stored: due now on the database clock, the pushed priority, no key.
        Assert.Equal(1, await q.DataSource.ScalarAsync($"SELECT count(*) FROM jobs_test.jobs WHERE id = '{id.Value}' AND queue_name = '{q.Queue.QueueName}' " +
            $"AND state = {(int)JobState.Pending} AND priority = {(int)JobPriority.Highest} AND run_at <= now() AND concurrency_key IS NULL AND key_seq IS NULL"));

        await q.StartAsync();
        await ran.WaitForCountAsync(1, seconds: 15);
        Assert.Equal([7], ran.Items);
    }
}
