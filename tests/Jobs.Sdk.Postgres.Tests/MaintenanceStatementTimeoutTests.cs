using Npgsql;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// A role or database with a short <c>statement_timeout</c> (<c>ALTER ROLE app SET statement_timeout = '50ms'</c>) and a
/// large queue. Before, the lease rescue (one statement over every expired lease of the queue) and each cleanup batch
/// (5,000 rows) ran longer than the timeout and were cancelled (57014) at every pass: a dead worker's jobs stayed
/// processing for good (never run again), and finished jobs were never removed. Maintenance statements lift the
/// timeout for their own transaction, as the migrations do for their session; the other statements keep it.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class MaintenanceStatementTimeoutTests(PostgresFixture fixture) : IAsyncLifetime
{
    private const int Jobs = 30_000;
    private StatementTimeoutDatabase? _database;

    public async Task InitializeAsync() => _database = await StatementTimeoutDatabase.CreateAsync(fixture, "stmttimeout", "50ms");

    public async Task DisposeAsync() => await _database!.DisposeAsync();

    [Fact]
    public async Task A_dead_workers_many_expired_leases_are_rescued_under_a_short_statement_timeout()
    {
        var queue = "rescue_" + Guid.NewGuid().ToString("N")[..8];
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>((_, _, _) => Task.CompletedTask), queueName: queue,
            worker: o => o.RescueInterval = TimeSpan.FromMilliseconds(200), dataSource: _database!.CreateDataSource());
        await SeedAsync(queue, $"state = {(int)JobState.Processing}, worker_id = 'dead', attempts = 1, started_at = now(), " +
            "lease_expires_at = now() - interval '1 minute', lease_token = gen_random_uuid()");

        await q.StartAsync();

        await TestExtensions.EventuallyAsync(async () => await _database!.Untimed.ScalarAsync(
            $"SELECT count(*) FROM jobs_test.jobs WHERE queue_name = '{queue}' AND worker_id = 'dead' AND state = {(int)JobState.Processing}") == 0,
            60, "the dead worker's expired leases rescued");
    }

    [Fact]
    public async Task Cleanup_removes_many_finished_jobs_under_a_short_statement_timeout()
    {
        var queue = "cleanup_" + Guid.NewGuid().ToString("N")[..8];
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>((_, _, _) => Task.CompletedTask), queueName: queue,
            dataSource: _database!.CreateDataSource());
        await SeedAsync(queue, $"state = {(int)JobState.Completed}, attempts = 1, finished_at = now(), updated_at = now() - interval '1 day'");

        await q.Queue.CleanupAsync(queue, new CleanupOptions { CompletedJobs = CleanupAction.Remove });

        Assert.Equal(0, await _database!.Untimed.ScalarAsync($"SELECT count(*) FROM jobs_test.jobs WHERE queue_name = '{queue}'"));
    }

    /// <summary>Pushes <see cref="Jobs"/> jobs to <paramref name="queue"/> and sets <paramref name="set"/> on them, without the timeout.</summary>
    private async Task SeedAsync(string queue, string set)
    {
        await using var seeder = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>((_, _, _) => Task.CompletedTask), queueName: queue,
            dataSource: _database!.CreateDataSource(b => b.Options = "-c statement_timeout=0"));
        await seeder.Queue.PushManyAsync(Enumerable.Range(0, Jobs).Select(i => new ValueJob(i)));
        await _database!.Untimed.ExecAsync($"UPDATE jobs_test.jobs SET {set} WHERE queue_name = '{queue}'");
    }
}
