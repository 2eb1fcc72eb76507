using System.Globalization;
using Jobs.Sdk.Testing;
using Npgsql;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// <c>PushManyAsync</c> under a role's or database's <c>statement_timeout</c> that one of its statements (1,000 rows each)
/// runs past, on any machine: a trigger makes every insert statement of more than <see cref="RowsThatPass"/> of the queue's
/// rows sleep past the 500 ms once. Before, the push failed with a bare 57014 ("canceling statement due to statement
/// timeout"). A push of the driver's own transaction is tried again whole, in statements of half the rows (all or nothing:
/// the cancelled one was rolled back); a push in the caller's transaction cannot be (the transaction is aborted), and fails
/// with a message that names the timeout, the statements' size and what to do.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class PushManyStatementTimeoutTests(PostgresFixture fixture) : IAsyncLifetime
{
    private const int Jobs = 3_000;
    private const int RowsThatPass = 200;
    private StatementTimeoutDatabase? _database;

    public async Task InitializeAsync() => _database = await StatementTimeoutDatabase.CreateAsync(fixture, "pushslow", "500ms");

    public async Task DisposeAsync() => await _database!.DisposeAsync();

    [Fact]
    public async Task A_batch_push_whose_statements_run_past_statement_timeout_is_stored_whole()
    {
        await using var q = await CreateQueueAsync();
        await InstallSlowPushAsync(q.Queue.QueueName);

        var thrown = await Record.ExceptionAsync(() => q.Queue.PushManyAsync(Enumerable.Range(0, Jobs).Select(i => new ValueJob(i))));

        Assert.True(thrown is null, $"A push of {Jobs} jobs whose statements of 1,000 rows run past statement_timeout threw {thrown?.GetType().Name}: {thrown?.Message}");
        Assert.Equal(Jobs * 1_000_000L + Jobs, await _database!.Untimed.ScalarAsync(
            $"SELECT count(*) * 1000000 + count(DISTINCT id) FROM jobs_test.jobs WHERE queue_name = '{q.Queue.QueueName}'"));
        Assert.True(await _database!.Untimed.ScalarAsync("SELECT last_value FROM jobs_test.slow_pushes") >= 1, "No statement ran past the timeout: the test did not test it.");
    }

    [Fact]
    public async Task A_batch_push_in_the_callers_transaction_whose_statement_runs_past_statement_timeout_names_the_timeout_and_the_size()
    {
        await using var q = await CreateQueueAsync();
        await InstallSlowPushAsync(q.Queue.QueueName);
        await using var timed = _database!.CreateDataSource();
        await using var connection = await timed.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();

        var thrown = await Record.ExceptionAsync(() => q.Queue.PushManyAsync(Enumerable.Range(0, Jobs).Select(i => new ValueJob(i)), transaction: transaction));

        Assert.True(thrown is JobsException && thrown.Message.Contains("statement_timeout of 500ms", StringComparison.Ordinal)
            && thrown.Message.Contains("1000 rows", StringComparison.Ordinal) && thrown.Message.Contains("roll", StringComparison.OrdinalIgnoreCase)
            && thrown.InnerException is PostgresException { SqlState: PostgresErrorCodes.QueryCanceled },
            $"A push of {Jobs} jobs in the caller's transaction whose statement of 1,000 rows ran past statement_timeout threw {thrown?.GetType().Name}: {thrown?.Message}");
        await transaction.RollbackAsync();
        Assert.Equal(0, await _database!.Untimed.ScalarAsync($"SELECT count(*) FROM jobs_test.jobs WHERE queue_name = '{q.Queue.QueueName}'"));
    }

    private Task<TestQueue> CreateQueueAsync([System.Runtime.CompilerServices.CallerMemberName] string test = "") => TestQueue.CreateAsync(fixture,
        b => b.AddJob<ValueJob>((_, _, _) => Task.CompletedTask), dataSource: _database!.CreateDataSource(), test: test[..Math.Min(test.Length, 40)]);

    /// <summary>
    /// Each insert statement into <paramref name="queue"/> that stores more than <see cref="RowsThatPass"/> rows sleeps 2 s at
    /// its next row (a statement trigger counts from 0 for each statement), counted in <c>jobs_test.slow_pushes</c>.
    /// </summary>
    private Task InstallSlowPushAsync(string queue) => _database!.Untimed.ExecAsync($$"""
        CREATE SEQUENCE jobs_test.slow_pushes;
        CREATE FUNCTION jobs_test.slow_push_start() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          PERFORM set_config('jobs_test.push_rows', '0', true);
          RETURN NULL;
        END $$;
        CREATE FUNCTION jobs_test.slow_push() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE n int := coalesce(nullif(current_setting('jobs_test.push_rows', true), ''), '0')::int + 1;
        BEGIN
          PERFORM set_config('jobs_test.push_rows', n::text, true);
          IF n = {{(RowsThatPass + 1).ToString(CultureInfo.InvariantCulture)}} THEN
            PERFORM nextval('jobs_test.slow_pushes');
            PERFORM pg_sleep(2);
          END IF;
          RETURN NEW;
        END $$;
        CREATE TRIGGER slow_push_start BEFORE INSERT ON jobs_test.jobs FOR EACH STATEMENT EXECUTE FUNCTION jobs_test.slow_push_start();
        CREATE TRIGGER slow_push BEFORE INSERT ON jobs_test.jobs FOR EACH ROW WHEN (NEW.queue_name = '{{queue}}') EXECUTE FUNCTION jobs_test.slow_push();
        """);
}
