using Jobs.Sdk.Testing;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// An operator's bulk action (<see cref="JobAdmin"/>: the dashboard's, the CLI's) over jobs whose rows another session's
/// open transaction holds locked (a user's transaction that updated a job row, or a <c>SELECT … FOR UPDATE</c>) under a
/// role's <c>statement_timeout</c>. Before, each batch holding a locked row waited until the timeout, was cancelled (57014)
/// and halved, about ten more timeouts down to the locked job alone, and the action failed with a message that blamed a
/// slow statement. Now a batch waits for a row lock at most half the timeout (<c>lock_timeout</c>, 55P03), then changes
/// every job of it that is not locked, and the action ends with <see cref="JobsLockedException"/>: which jobs were not
/// changed, which session holds them and what to do.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class BulkActionLockWaitTests(PostgresFixture fixture) : IAsyncLifetime
{
    private const int Jobs = JobAdmin.BatchSize + 200; // a full batch of the walk and a short one
    private StatementTimeoutDatabase? _database;

    public async Task InitializeAsync() => _database = await StatementTimeoutDatabase.CreateAsync(fixture, "bulklock", "500ms");

    public async Task DisposeAsync() => await _database!.DisposeAsync();

    [Fact]
    public async Task A_bulk_retry_over_a_job_row_an_open_transaction_updated_changes_every_other_job_and_names_the_holder()
    {
        await using var q = await CreateQueueAsync();
        var queue = q.Queue.QueueName;
        var ids = await SeedFailedAsync(q, Jobs);
        var locked = ids[500];
        await using var holder = await HoldAsync("report-export", $"UPDATE jobs_test.jobs SET priority = priority WHERE id = '{locked}'");
        var admin = q.Services.GetRequiredService<JobAdmin>();
        var progress = new ProgressLog();

        var thrown = await Record.ExceptionAsync(() =>
            admin.RetryAsync(JobSelection.Matching(new JobQuery { Queue = queue, States = [JobState.Failed] }), false, null, progress));

        Assert.True(thrown is JobsLockedException { Changed: Jobs - 1 } e && e.LockedJobs.SequenceEqual([locked])
            && thrown.Message.Contains($"pid {holder.Pid}", StringComparison.Ordinal) && thrown.Message.Contains("'report-export'", StringComparison.Ordinal)
            && thrown.Message.Contains("idle in transaction", StringComparison.Ordinal) && thrown.Message.Contains("pg_terminate_backend", StringComparison.Ordinal)
            && thrown.Message.Contains(locked.ToString(), StringComparison.Ordinal),
            $"A bulk retry of {Jobs} failed jobs, one of whose rows an open transaction (pid {holder.Pid}, 'report-export') had updated, " +
            $"threw {thrown?.GetType().Name ?? "nothing"}: {thrown?.Message}");
        Assert.Equal(Jobs - 1, await CountAsync(queue, JobState.Pending));
        Assert.Equal(1, await CountAsync(queue, JobState.Failed));
        // Progress counts the walk's batches and the jobs changed, not the skipped one.
        Assert.Equal([new JobBulkProgress(1, JobAdmin.BatchSize, JobAdmin.BatchSize - 1), new JobBulkProgress(2, Jobs, Jobs - 1)], progress.Reports);
    }

    [Fact]
    public async Task A_bulk_cancel_over_rows_two_sessions_hold_for_update_cancels_the_others_and_names_both_holders()
    {
        await using var q = await CreateQueueAsync();
        var queue = q.Queue.QueueName;
        var ids = await SeedFailedAsync(q, 10);
        await _database!.Untimed.ExecAsync($"UPDATE jobs_test.jobs SET state = {(int)JobState.Pending} WHERE queue_name = '{queue}'");
        await using var first = await HoldAsync("nightly-report", $"SELECT 1 FROM jobs_test.jobs WHERE id = '{ids[2]}' FOR UPDATE");
        await using var second = await HoldAsync("psql", $"SELECT 1 FROM jobs_test.jobs WHERE id = '{ids[7]}' FOR NO KEY UPDATE");
        var admin = q.Services.GetRequiredService<JobAdmin>();

        var thrown = await Record.ExceptionAsync(() => admin.CancelAsync(JobSelection.Ids(ids)));

        Assert.True(thrown is JobsLockedException { Changed: 8 } e && e.LockedJobs.OrderBy(i => i.Value).SequenceEqual(new[] { ids[2], ids[7] }.OrderBy(i => i.Value))
            && thrown.Message.Contains($"pid {first.Pid}", StringComparison.Ordinal) && thrown.Message.Contains("'nightly-report'", StringComparison.Ordinal)
            && thrown.Message.Contains($"pid {second.Pid}", StringComparison.Ordinal) && thrown.Message.Contains("'psql'", StringComparison.Ordinal),
            $"A bulk cancel of 10 jobs, two of whose rows other sessions held locked (pids {first.Pid}, {second.Pid}), " +
            $"threw {thrown?.GetType().Name ?? "nothing"}: {thrown?.Message}");
        Assert.Equal(8, await CountAsync(queue, JobState.Cancelled));
        Assert.Equal(2, await CountAsync(queue, JobState.Pending));
    }

    /// <summary>
    /// A statement cancelled by another session (<c>pg_cancel_backend</c>) is no timeout, whatever the server's
    /// <c>lc_messages</c>. A German server says "storniere Anfrage wegen Benutzeraufforderung" where an English one says
    /// "canceling statement due to user request"; this machine's cluster has no German locale, so a trigger raises 57014
    /// with that text (PostgreSQL 15's de translation) on the retry's first row.
    /// </summary>
    [Fact]
    public async Task A_bulk_action_cancelled_by_another_session_on_a_server_that_speaks_german_is_not_taken_for_a_statement_timeout()
    {
        await using var q = await CreateQueueAsync();
        var queue = q.Queue.QueueName;
        var ids = await SeedFailedAsync(q, 4);
        await _database!.Untimed.ExecAsync($$"""
            CREATE SEQUENCE jobs_test.user_cancels;
            CREATE FUNCTION jobs_test.user_cancel() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              PERFORM nextval('jobs_test.user_cancels');
              RAISE EXCEPTION USING ERRCODE = 'query_canceled', MESSAGE = 'storniere Anfrage wegen Benutzeraufforderung';
            END $$;
            CREATE TRIGGER user_cancel BEFORE UPDATE ON jobs_test.jobs FOR EACH ROW WHEN (OLD.queue_name = '{{queue}}')
              EXECUTE FUNCTION jobs_test.user_cancel();
            """);
        var admin = q.Services.GetRequiredService<JobAdmin>();

        var thrown = await Record.ExceptionAsync(() => admin.RetryAsync(JobSelection.Ids(ids)));

        Assert.True(thrown is PostgresException { SqlState: PostgresErrorCodes.QueryCanceled },
            $"A bulk retry cancelled by another session (German message) threw {thrown?.GetType().Name ?? "nothing"}: {thrown?.Message}");
        Assert.Equal(1, await _database!.Untimed.ScalarAsync("SELECT last_value FROM jobs_test.user_cancels")); // not tried again in halves
        Assert.Equal(4, await CountAsync(queue, JobState.Failed));
    }

    private Task<TestQueue> CreateQueueAsync([System.Runtime.CompilerServices.CallerMemberName] string test = "") => TestQueue.CreateAsync(fixture,
        b => b.AddJob<KeyedRecordJob>((_, _, _) => Task.CompletedTask), dataSource: _database!.CreateDataSource(), test: test[..Math.Min(test.Length, 40)]);

    /// <summary>Pushes <paramref name="count"/> jobs of distinct concurrency keys and fails them, without the timeout.</summary>
    private async Task<JobId[]> SeedFailedAsync(TestQueue q, int count)
    {
        var ids = await q.Queue.PushManyAsync(Enumerable.Range(0, count).Select(i => new KeyedRecordJob(i * 1_000)));
        await _database!.Untimed.ExecAsync(
            $"UPDATE jobs_test.jobs SET state = {(int)JobState.Failed}, attempts = 1, finished_at = now() WHERE queue_name = '{q.Queue.QueueName}'");
        return [.. ids];
    }

    /// <summary>A session named <paramref name="application"/> that ran <paramref name="sql"/> in a transaction it keeps open (idle in transaction).</summary>
    private async Task<Holder> HoldAsync(string application, string sql)
    {
        var dataSource = _database!.CreateDataSource(b => (b.ApplicationName, b.Options, b.Pooling) = (application, "-c statement_timeout=0", false));
        var connection = await dataSource.OpenConnectionAsync();
        var transaction = await connection.BeginTransactionAsync();
        await using (var command = new NpgsqlCommand(sql, connection, transaction))
        {
            await command.ExecuteNonQueryAsync();
        }

        return new Holder(dataSource, connection, transaction, connection.ProcessID);
    }

    private Task<long> CountAsync(string queue, JobState state)
        => _database!.Untimed.ScalarAsync($"SELECT count(*) FROM jobs_test.jobs WHERE queue_name = '{queue}' AND state = {(int)state}");

    /// <summary>An open transaction holding row locks; disposing rolls it back and closes its session.</summary>
    private sealed record Holder(NpgsqlDataSource DataSource, NpgsqlConnection Connection, NpgsqlTransaction Transaction, int Pid) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await Transaction.DisposeAsync();
            await Connection.DisposeAsync();
            await DataSource.DisposeAsync();
        }
    }

    /// <summary>The reports of a bulk action, in order (reported on the action's flow).</summary>
    private sealed class ProgressLog : IProgress<JobBulkProgress>
    {
        public List<JobBulkProgress> Reports { get; } = [];

        public void Report(JobBulkProgress value) => Reports.Add(value);
    }
}
