using System.Data;
using Jobs.Sdk.Testing;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// Keyed pushes admit the jobs that find room in their key's line (<see cref="KeyAdmissionSql"/>): admitted rows pass the
/// claim's gate without counting the line, so an admission must never be given to a job that the count would hold back.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class KeyAdmissionTests(PostgresFixture fixture)
{
    [Fact]
    public async Task A_keyed_push_is_admitted_only_while_fewer_than_its_limit_of_its_key_are_unfinished()
    {
        await using var q = await TestQueue.CreateAsync(fixture, _ => { });
        // Limit 2 (PairedRecordJob): one at a time, then three in one statement; limit 1 (ValueJob) behind them in the same key.
        await q.Queue.PushAsync(new PairedRecordJob(1), new JobOptions { ConcurrencyKey = "k" });
        await q.Queue.PushManyAsync([new PairedRecordJob(2), new PairedRecordJob(3), new PairedRecordJob(4)], new JobOptions { ConcurrencyKey = "k" });
        await q.Queue.PushAsync(new ValueJob(5), new JobOptions { ConcurrencyKey = "k" });
        // Another key's line is its own; an unkeyed job is never admitted (it needs no gate).
        await q.Queue.PushManyAsync([new ValueJob(6), new ValueJob(7)], new JobOptions { ConcurrencyKey = "other" });
        await q.Queue.PushAsync(new ValueJob(8));

        Assert.Equal("k:1:t k:2:t k:3:f k:4:f k:5:f other:6:t other:7:f -:8:f", await AdmissionsAsync(q));

        // Finished jobs leave the line: with 6 finished, 7 is the only unfinished job of "other", so a job of limit 2 finds
        // room behind it, and the next one does not (7 and 9 unfinished).
        await q.DataSource.ExecAsync($"UPDATE jobs_test.jobs SET state = 3 WHERE queue_name = '{q.Driver.QueueName}' AND payload->>'value' = '6'");
        await q.Queue.PushAsync(new PairedRecordJob(9), new JobOptions { ConcurrencyKey = "other" });
        await q.Queue.PushAsync(new PairedRecordJob(10), new JobOptions { ConcurrencyKey = "other" });
        Assert.EndsWith("other:9:t other:10:f", await AdmissionsAsync(q), StringComparison.Ordinal);

        // A push behind an admitted job builds on that job's count (no count of its own) only while the sum has room.
        await q.Queue.PushAsync(new PairedRecordJob(11), new JobOptions { ConcurrencyKey = "z" });
        await q.Queue.PushAsync(new PairedRecordJob(12), new JobOptions { ConcurrencyKey = "z" });
        await q.Queue.PushManyAsync([new PairedRecordJob(13)], new JobOptions { ConcurrencyKey = "z" });
        Assert.EndsWith("z:11:t z:12:t z:13:f", await AdmissionsAsync(q), StringComparison.Ordinal);
        await q.DataSource.ExecAsync($"UPDATE jobs_test.jobs SET state = 3 WHERE queue_name = '{q.Driver.QueueName}' AND concurrency_key = 'z' AND payload->>'n' = '11'");
        await q.Queue.PushManyAsync([new PairedRecordJob(14), new PairedRecordJob(15)], new JobOptions { ConcurrencyKey = "z" });
        Assert.EndsWith("z:13:f z:14:f z:15:f", await AdmissionsAsync(q), StringComparison.Ordinal); // 12 and 13 are unfinished
    }

    [Fact]
    public async Task A_push_that_waited_for_its_key_counts_the_job_it_waited_for()
    {
        await using var q = await TestQueue.CreateAsync(fixture, _ => { });
        // A user's transaction pushes the key's first job and holds the key's lock until it commits.
        await using var connection = await q.DataSource.OpenConnectionAsync();
        await using var tx = await connection.BeginTransactionAsync();
        await q.Queue.PushAsync(new ValueJob(1), tx, new JobOptions { ConcurrencyKey = "k" });

        // A second push of the key waits for that lock; its snapshot must include the first job once it is granted.
        var second = q.Queue.PushAsync(new ValueJob(2), new JobOptions { ConcurrencyKey = "k" });
        await TestExtensions.EventuallyAsync(
            async () => await q.DataSource.ScalarAsync("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted") > 0,
            what: "the second push waiting for the key's lock");
        await tx.CommitAsync();
        await second;

        Assert.Equal("k:1:t k:2:f", await AdmissionsAsync(q));
    }

    [Fact]
    public async Task A_push_in_a_repeatable_read_transaction_is_not_admitted()
    {
        await using var q = await TestQueue.CreateAsync(fixture, _ => { });
        // Its snapshot is the transaction's first: it cannot see a push it waited for, so it leaves the job to the gate's count.
        await using var connection = await q.DataSource.OpenConnectionAsync();
        await using var tx = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead);
        await q.Queue.PushAsync(new ValueJob(1), tx, new JobOptions { ConcurrencyKey = "k" });
        await tx.CommitAsync();
        await q.Queue.PushAsync(new ValueJob(2), new JobOptions { ConcurrencyKey = "k2" });

        Assert.Equal("k:1:f k2:2:t", await AdmissionsAsync(q));
    }

    /// <summary>"key:n:admitted" of every job of the queue in push order ("-" for no key; n from the payload).</summary>
    private static async Task<string> AdmissionsAsync(TestQueue q)
    {
        await using var command = q.DataSource.CreateCommand($"""
            SELECT coalesce(concurrency_key, '-') || ':' || coalesce(payload->>'n', payload->>'value') || ':' || CASE WHEN key_admitted = key_seq THEN 't' ELSE 'f' END
            FROM jobs_test.jobs WHERE queue_name = '{q.Driver.QueueName}' ORDER BY created_at, coalesce(key_seq, 0), (coalesce(payload->>'n', payload->>'value'))::int
            """);
        var rows = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            rows.Add(reader.GetString(0));
        }

        return string.Join(' ', rows);
    }
}
