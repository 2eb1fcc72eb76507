namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// A unique batch whose jobs share a concurrency key: the key runs its jobs in push order, and within one batch push order
/// is the order the batch lists them (README: "runs in push order per key"), whatever their unique keys are.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class UniqueBatchKeyOrderTests(PostgresFixture fixture)
{
    [Fact]
    public async Task A_unique_batch_lines_up_its_jobs_of_one_concurrency_key_in_the_order_it_lists_them()
    {
        await using var q = await TestQueue.CreateAsync(fixture, _ => { });
        // Unique keys in descending order, so an insert order by unique key would reverse the line.
        var accounts = new[] { "ffffffff", "cccccccc", "99999999", "33333333", "00000000" }
            .Select(p => Guid.Parse(p + "-0000-0000-0000-000000000000")).ToArray();

        var results = await q.Queue.TryPushManyAsync(accounts.Select((a, i) => new UniqueAccountJob(a, i)), new JobOptions { ConcurrencyKey = "tenant" });

        Assert.All(results, r => Assert.True(r.Inserted));
        await using var read = q.DataSource.CreateCommand(
            $"SELECT string_agg(payload->>'n', ' ' ORDER BY key_seq) FROM jobs_test.jobs WHERE queue_name = '{q.Queue.QueueName}' AND concurrency_key = 'tenant'");
        Assert.Equal("0 1 2 3 4", (string?)await read.ExecuteScalarAsync());
    }
}
