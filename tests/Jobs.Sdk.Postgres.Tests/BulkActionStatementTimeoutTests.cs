using Jobs.Sdk.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// An operator's bulk actions (the dashboard's, the CLI's: <see cref="JobAdmin"/>) under a role's or database's
/// <c>statement_timeout</c> (managed PostgreSQL: 30 s to 60 s against millions of rows, or short on an OLTP role) that a
/// batch of <see cref="JobAdmin.BatchSize"/> jobs runs past. On any machine: <see cref="SlowBatchTrigger"/> makes each
/// statement that changes more than <see cref="RowsThatPass"/> of the queue's jobs run past the timeout, and one that
/// changes no more pass. Before, the first batch was cancelled (57014) and the action failed; each batch is its own
/// transaction, so a cancelled one changed nothing, and the action now halves it and goes on.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class BulkActionStatementTimeoutTests(PostgresFixture fixture) : IAsyncLifetime
{
    private const int Jobs = JobAdmin.BatchSize + 200; // a full batch of the walk and a short one
    private const int RowsThatPass = 100;
    private static readonly TimeSpan PastTimeout = TimeSpan.FromSeconds(2);
    private StatementTimeoutDatabase? _database;

    public async Task InitializeAsync() => _database = await StatementTimeoutDatabase.CreateAsync(fixture, "bulkadapt", "500ms");

    public async Task DisposeAsync() => await _database!.DisposeAsync();

    [Fact]
    public async Task Bulk_retry_cancel_and_delete_of_a_selection_whose_batches_run_past_statement_timeout_change_every_job_once()
    {
        await using var q = await CreateQueueAsync();
        var queue = q.Queue.QueueName;
        var ids = await SeedFailedAsync(q, Jobs);
        await SlowBatchTrigger.InstallAsync(_database!.Untimed, queue, RowsThatPass, PastTimeout);
        var admin = q.Services.GetRequiredService<JobAdmin>();
        var progress = new ProgressLog();

        var retried = await admin.RetryAsync(JobSelection.Matching(new JobQuery { Queue = queue, States = [JobState.Failed] }), false, null, progress);
        Assert.Equal(Jobs, retried);
        Assert.Equal(Jobs, await CountAsync(queue, JobState.Pending));
        // Progress counts the walk's batches of BatchSize, however many statements each took.
        Assert.Equal([new JobBulkProgress(1, JobAdmin.BatchSize, JobAdmin.BatchSize), new JobBulkProgress(2, Jobs, Jobs)], progress.Reports);

        Assert.Equal(Jobs, await admin.CancelAsync(JobSelection.Ids(ids)));
        Assert.Equal(Jobs, await CountAsync(queue, JobState.Cancelled));

        Assert.Equal(Jobs, await admin.DeleteAsync(JobSelection.Matching(new JobQuery { Queue = queue })));
        Assert.Equal(0, await _database!.Untimed.ScalarAsync($"SELECT count(*) FROM jobs_test.jobs WHERE queue_name = '{queue}'"));

        // Each action's first statement (a batch of 1,000) went over the limit, and was cancelled.
        Assert.True(await SlowBatchTrigger.SleptAsync(_database!.Untimed) >= 3, "No batch ran past the timeout: the test did not test it.");
    }

    [Fact]
    public async Task A_bulk_action_on_which_a_single_job_runs_past_statement_timeout_fails_naming_the_setting_and_the_role()
    {
        await using var q = await CreateQueueAsync();
        var queue = q.Queue.QueueName;
        var ids = await SeedFailedAsync(q, 4);
        await SlowBatchTrigger.InstallAsync(_database!.Untimed, queue, 0, PastTimeout);
        var admin = q.Services.GetRequiredService<JobAdmin>();

        var thrown = await Record.ExceptionAsync(() => admin.RetryAsync(JobSelection.Ids(ids)));

        Assert.NotNull(thrown);
        Assert.True(thrown is JobsException && thrown.Message.Contains("statement_timeout", StringComparison.Ordinal) &&
            thrown.Message.Contains("500ms", StringComparison.Ordinal) && thrown.Message.Contains("'postgres'", StringComparison.Ordinal) &&
            thrown.Message.Contains("ALTER ROLE", StringComparison.Ordinal),
            $"A retry of which one job alone runs past statement_timeout threw {thrown.GetType().Name}: {thrown.Message}");
        Assert.Equal(4, await CountAsync(queue, JobState.Failed));
        Assert.Equal(3, await SlowBatchTrigger.SleptAsync(_database!.Untimed)); // 4 jobs, then 2, then 1
    }

    [Fact]
    public async Task A_bulk_action_the_caller_cancels_is_not_tried_again_in_smaller_batches()
    {
        // No statement_timeout: only the caller's token ends the batch.
        await using var q = await CreateQueueAsync(b => b.Options = "-c statement_timeout=0");
        var queue = q.Queue.QueueName;
        var ids = await SeedFailedAsync(q, 4);
        await SlowBatchTrigger.InstallAsync(_database!.Untimed, queue, 0, TimeSpan.FromSeconds(60));
        var admin = q.Services.GetRequiredService<JobAdmin>();
        using var cancel = new CancellationTokenSource();

        var retry = admin.RetryAsync(JobSelection.Ids(ids), cancellationToken: cancel.Token);
        await TestExtensions.EventuallyAsync(async () => await SlowBatchTrigger.SleptAsync(_database!.Untimed) == 1, 30, "the retry's batch sleeping");
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => retry.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(1, await SlowBatchTrigger.SleptAsync(_database!.Untimed));
        Assert.Equal(4, await CountAsync(queue, JobState.Failed));
    }

    /// <summary>Cleanup lifts the timeout for its own batches (maintenance): a batch over the limit runs to its end (passes as written).</summary>
    [Fact]
    public async Task A_cleanup_whose_batch_runs_past_statement_timeout_removes_every_job()
    {
        await using var q = await CreateQueueAsync();
        var queue = q.Queue.QueueName;
        await SeedFailedAsync(q, Jobs);
        await _database!.Untimed.ExecAsync($"UPDATE jobs_test.jobs SET updated_at = now() - interval '1 day' WHERE queue_name = '{queue}'");
        await SlowBatchTrigger.InstallAsync(_database!.Untimed, queue, RowsThatPass, PastTimeout);

        await q.Queue.CleanupAsync(queue, new CleanupOptions { FailedJobs = CleanupAction.Remove });

        Assert.Equal(0, await _database!.Untimed.ScalarAsync($"SELECT count(*) FROM jobs_test.jobs WHERE queue_name = '{queue}'"));
        Assert.Equal(1, await SlowBatchTrigger.SleptAsync(_database!.Untimed));
    }

    private Task<TestQueue> CreateQueueAsync(Action<Npgsql.NpgsqlConnectionStringBuilder>? configure = null,
        [System.Runtime.CompilerServices.CallerMemberName] string test = "") => TestQueue.CreateAsync(fixture,
        b => b.AddJob<KeyedRecordJob>((_, _, _) => Task.CompletedTask), dataSource: _database!.CreateDataSource(configure), test: test[..Math.Min(test.Length, 40)]);

    /// <summary>Pushes <paramref name="count"/> jobs of distinct concurrency keys and fails them, without the timeout.</summary>
    private async Task<JobId[]> SeedFailedAsync(TestQueue q, int count)
    {
        var ids = await q.Queue.PushManyAsync(Enumerable.Range(0, count).Select(i => new KeyedRecordJob(i * 1_000)));
        await _database!.Untimed.ExecAsync(
            $"UPDATE jobs_test.jobs SET state = {(int)JobState.Failed}, attempts = 1, finished_at = now() WHERE queue_name = '{q.Queue.QueueName}'");
        return [.. ids];
    }

    private Task<long> CountAsync(string queue, JobState state)
        => _database!.Untimed.ScalarAsync($"SELECT count(*) FROM jobs_test.jobs WHERE queue_name = '{queue}' AND state = {(int)state}");

    /// <summary>The reports of a bulk action, in order (reported on the action's flow).</summary>
    private sealed class ProgressLog : IProgress<JobBulkProgress>
    {
        public List<JobBulkProgress> Reports { get; } = [];

        public void Report(JobBulkProgress value) => Reports.Add(value);
    }
}
