using Jobs.Sdk.Testing;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// A role's or database's short <c>statement_timeout</c> (common on managed PostgreSQL: <c>ALTER ROLE app SET
/// statement_timeout = '150ms'</c>) and a large <c>PushManyAsync</c>. Before, the driver put 10,000 rows in one statement:
/// a batch of 1,000 passed, one of 10,000 or more failed with a bare 57014 ("canceling statement due to statement
/// timeout"), though the same rows pushed in calls of 1,000 passed. The batch is all or nothing (README), so it is
/// stored whole, each job once.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class BigBatchStatementTimeoutTests(PostgresFixture fixture) : IAsyncLifetime
{
    private const int Jobs = 30_000;
    private StatementTimeoutDatabase? _database;

    public async Task InitializeAsync() => _database = await StatementTimeoutDatabase.CreateAsync(fixture, "bigbatch", "100ms");

    public async Task DisposeAsync() => await _database!.DisposeAsync();

    [Fact]
    public async Task A_big_batch_is_stored_whole_under_a_short_statement_timeout()
    {
        await using var q = await CreateQueueAsync();

        await q.Queue.PushManyAsync(Enumerable.Range(0, Jobs).Select(i => new ValueJob(i)));

        await AssertStoredOnceAsync(q.Queue.QueueName);
    }

    [Fact]
    public async Task A_big_batch_of_many_concurrency_keys_is_stored_whole_under_a_short_statement_timeout()
    {
        // A keyed row costs three to four times an unkeyed one: the session's own 150 ms (as a role's setting would).
        await using var q = await CreateQueueAsync(b => b.Options = "-c statement_timeout=150ms");

        // 3,000 keys of 10 jobs each, spread over the batch (N = key * 1000 + place).
        await q.Queue.PushManyAsync(Enumerable.Range(0, Jobs).Select(i => new KeyedRecordJob(i % 3_000 * 1_000 + i / 3_000)));

        await AssertStoredOnceAsync(q.Queue.QueueName);
    }

    [Fact]
    public async Task A_big_batch_in_the_callers_transaction_is_stored_whole_under_a_short_statement_timeout()
    {
        await using var q = await CreateQueueAsync();
        await using var timed = _database!.CreateDataSource();
        await using var connection = await timed.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();

        await q.Queue.PushManyAsync(Enumerable.Range(0, Jobs).Select(i => new ValueJob(i)), transaction: transaction);
        await transaction.CommitAsync();

        await AssertStoredOnceAsync(q.Queue.QueueName);
    }

    /// <summary>
    /// An operator's bulk actions (the dashboard's, the CLI's) over 5,000 jobs of distinct concurrency keys under the same
    /// timeout: each batch of <see cref="JobAdmin.BatchSize"/> ids is its own statement. A retry's batch of 1,000 keyed jobs
    /// took 40 to 90 ms, so on a loaded machine it ran past the 100 ms and the action failed (57014), now and then. Whatever
    /// the machine, <see cref="SlowBatchTrigger"/> makes each statement over 100 jobs run past the timeout and none below:
    /// such a statement is rolled back and its jobs tried again in smaller ones (<see cref="BulkActionStatementTimeoutTests"/>).
    /// </summary>
    [Fact]
    public async Task Bulk_retry_cancel_and_delete_of_many_jobs_pass_under_a_short_statement_timeout()
    {
        await using var q = await CreateQueueAsync();
        var ids = await q.Queue.PushManyAsync(Enumerable.Range(0, 5_000).Select(i => new KeyedRecordJob(i * 1_000)));
        await _database!.Untimed.ExecAsync($"UPDATE jobs_test.jobs SET state = {(int)JobState.Failed}, finished_at = now() WHERE queue_name = '{q.Queue.QueueName}'");
        await SlowBatchTrigger.InstallAsync(_database!.Untimed, q.Queue.QueueName, 100, TimeSpan.FromSeconds(1));
        var admin = q.Services.GetRequiredService<JobAdmin>();

        Assert.Equal(5_000, await admin.RetryAsync(JobSelection.Ids(ids)));
        Assert.Equal(5_000, await admin.CancelAsync(JobSelection.Ids(ids)));
        Assert.Equal(5_000, await admin.DeleteAsync(JobSelection.Ids(ids)));
        Assert.Equal(0, await _database!.Untimed.ScalarAsync($"SELECT count(*) FROM jobs_test.jobs WHERE queue_name = '{q.Queue.QueueName}'"));
        Assert.True(await SlowBatchTrigger.SleptAsync(_database!.Untimed) >= 3, "No batch ran past the timeout: the test did not test it.");
    }

    /// <summary>
    /// What the driver relies on, measured on the server (passes as written): in one round trip of several statements (a
    /// pipeline, one Sync), <c>statement_timeout</c> applies to each statement on its own, not to the whole round trip.
    /// Five statements of 60 ms each under a 100 ms timeout all complete.
    /// </summary>
    [Fact]
    public async Task Statement_timeout_applies_to_each_statement_of_a_round_trip()
    {
        await using var timed = _database!.CreateDataSource();
        await using var connection = await timed.OpenConnectionAsync();
        await using var batch = new NpgsqlBatch(connection);
        for (var i = 0; i < 5; i++)
        {
            batch.BatchCommands.Add(new NpgsqlBatchCommand("SELECT pg_sleep(0.06)"));
        }

        batch.BatchCommands.Add(new NpgsqlBatchCommand("SELECT current_setting('statement_timeout')"));
        await using var reader = await batch.ExecuteReaderAsync();
        for (var i = 0; i < 5; i++)
        {
            await reader.NextResultAsync();
        }

        Assert.True(await reader.ReadAsync());
        Assert.Equal("100ms", reader.GetString(0));
    }

    private Task<TestQueue> CreateQueueAsync(Action<NpgsqlConnectionStringBuilder>? configure = null,
        [System.Runtime.CompilerServices.CallerMemberName] string test = "") => TestQueue.CreateAsync(fixture,
        b => b.AddJob<ValueJob>((_, _, _) => Task.CompletedTask).AddJob<KeyedRecordJob>((_, _, _) => Task.CompletedTask),
        dataSource: _database!.CreateDataSource(configure), test: test);

    private async Task AssertStoredOnceAsync(string queue)
    {
        var read = await _database!.Untimed.ScalarAsync($"SELECT count(*) * 1000000 + count(DISTINCT id) FROM jobs_test.jobs WHERE queue_name = '{queue}'");
        Assert.Equal(Jobs * 1_000_000L + Jobs, read);
    }
}
