using Jobs.Sdk.Testing;
using Npgsql;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// <c>PushManyAsync</c> of unique jobs under a role's or database's <c>statement_timeout</c> that one of the batch's
/// statements runs past (a slow trigger on the jobs table, a loaded server). A unique batch stores each job with a
/// statement of its own (one row: its key is looked up as it is inserted), so there are no statements of many rows to
/// halve, as a plain batch's are (<see cref="PushManyStatementTimeoutTests"/>): a statement of one row past the timeout
/// ends the push, which threw a bare 57014 naming neither the timeout nor what to do. It throws the plain batch's
/// actionable <see cref="JobsException"/>s (<c>PushStatementTimeout</c>): in the driver's own transaction, rolled back whole;
/// in the caller's transaction, which the cancel aborted, that it must be rolled back.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class UniquePushManyStatementTimeoutTests(PostgresFixture fixture) : IAsyncLifetime
{
    private const int Jobs = 300;
    private const int SlowRow = Jobs / 2;
    private StatementTimeoutDatabase? _database;

    public async Task InitializeAsync() => _database = await StatementTimeoutDatabase.CreateAsync(fixture, "uniqueslow", "500ms");

    public async Task DisposeAsync() => await _database!.DisposeAsync();

    [Fact]
    public async Task A_unique_batch_push_whose_one_row_statement_runs_past_statement_timeout_names_the_timeout_and_stores_nothing()
    {
        await using var q = await CreateQueueAsync();
        var accounts = Accounts();
        await InstallSlowInsertAsync(q.Queue.QueueName);

        var thrown = await Record.ExceptionAsync(() => q.Queue.PushManyAsync(accounts.Select((a, i) => new UniqueAccountJob(a, i))));

        Assert.True(thrown is JobsException && thrown.Message.Contains("statement_timeout of 500ms", StringComparison.Ordinal)
            && thrown.Message.Contains("one row", StringComparison.Ordinal) && thrown.Message.Contains("nothing of it is stored", StringComparison.Ordinal)
            && thrown.InnerException is PostgresException { SqlState: PostgresErrorCodes.QueryCanceled },
            $"A push of {Jobs} unique jobs, one of whose single-row statements ran past statement_timeout, threw {thrown?.GetType().Name}: {thrown?.Message}");
        Assert.Equal(0, await CountAsync(q.Queue.QueueName));
        Assert.True(await _database!.Untimed.ScalarAsync("SELECT last_value FROM jobs_test.slow_inserts") >= 1, "No statement ran past the timeout: the test did not test it.");
    }

    [Fact]
    public async Task A_unique_batch_push_in_the_callers_transaction_whose_statement_runs_past_statement_timeout_says_to_roll_back()
    {
        await using var q = await CreateQueueAsync();
        var accounts = Accounts();
        await InstallSlowInsertAsync(q.Queue.QueueName);
        await using var timed = _database!.CreateDataSource();
        await using var connection = await timed.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();

        var thrown = await Record.ExceptionAsync(() => q.Queue.PushManyAsync(accounts.Select((a, i) => new UniqueAccountJob(a, i)), transaction: transaction));

        Assert.True(thrown is JobsException && thrown.Message.Contains("statement_timeout of 500ms", StringComparison.Ordinal)
            && thrown.Message.Contains("caller's transaction", StringComparison.Ordinal) && thrown.Message.Contains("roll it back", StringComparison.Ordinal)
            && thrown.InnerException is PostgresException { SqlState: PostgresErrorCodes.QueryCanceled },
            $"A push of {Jobs} unique jobs in the caller's transaction, one of whose statements ran past statement_timeout, threw {thrown?.GetType().Name}: {thrown?.Message}");
        await transaction.RollbackAsync();
        Assert.Equal(0, await CountAsync(q.Queue.QueueName));
    }

    private static Guid[] Accounts() => [.. Enumerable.Range(0, Jobs).Select(_ => Guid.NewGuid())];

    private Task<TestQueue> CreateQueueAsync([System.Runtime.CompilerServices.CallerMemberName] string test = "") => TestQueue.CreateAsync(fixture,
        b => b.AddJob<UniqueAccountJob>((_, _, _) => Task.CompletedTask), dataSource: _database!.CreateDataSource(), test: test[..Math.Min(test.Length, 40)]);

    private Task<long> CountAsync(string queue) => _database!.Untimed.ScalarAsync($"SELECT count(*) FROM jobs_test.jobs WHERE queue_name = '{queue}'");

    /// <summary>
    /// The insert of the transaction's row <see cref="SlowRow"/> into <paramref name="queue"/> sleeps 2 s (its own statement,
    /// one row), counted in <c>jobs_test.slow_inserts</c>.
    /// </summary>
    private Task InstallSlowInsertAsync(string queue) => _database!.Untimed.ExecAsync($$"""
        CREATE SEQUENCE jobs_test.slow_inserts;
        CREATE FUNCTION jobs_test.slow_insert() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE n int := coalesce(nullif(current_setting('jobs_test.insert_rows', true), ''), '0')::int + 1;
        BEGIN
          PERFORM set_config('jobs_test.insert_rows', n::text, true);
          IF n = {{SlowRow}} THEN
            PERFORM nextval('jobs_test.slow_inserts');
            PERFORM pg_sleep(2);
          END IF;
          RETURN NEW;
        END $$;
        CREATE TRIGGER slow_insert BEFORE INSERT ON jobs_test.jobs FOR EACH ROW
          WHEN (NEW.queue_name = '{{queue}}') EXECUTE FUNCTION jobs_test.slow_insert();
        """);
}
