using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// The pool's idle connections were dropped by the server (as a restart or a failover drops them) and the store is up:
/// the outcome writer's first write meets one of them and fails as an outage does (57P01). A backoff step for it would
/// delay the first outcome after a store came back by up to <see cref="WorkerDelay.MaxBackoff"/> more than the rescue of
/// the other workers waits (JobWorker's AfterOutage); the writer tries once more at once, on a new connection, and warns
/// only when that fails too.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class StaleConnectionOutcomeTests(PostgresFixture fixture)
{
    [Fact]
    public async Task An_outcome_whose_write_meets_a_connection_the_server_dropped_is_recorded_at_once_without_a_warning()
    {
        await using var direct = fixture.CreateDataSource();
        var warnings = new OutcomeWarnings();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var q = await TestQueue.CreateAsync(fixture, b =>
            {
                b.Services.AddLogging(l => l.AddProvider(warnings));
                b.AddJob<ValueJob>(async (_, _, _) =>
                {
                    started.TrySetResult();
                    await release.Task;
                });
            },
            driver: o => o.Retention = new RetentionPolicy { CompletedJobs = Retain.Yes },
            worker: o => o.Concurrency = 1);
        var id = await q.Queue.PushAsync(new ValueJob(1));
        await q.StartAsync();
        await started.Task.WaitAsync(TimeSpan.FromSeconds(60));

        // Idle connections in the worker's pool, then dropped by the server (the pool does not notice until one is used). The
        // pool's other idle connections go first: the writer's next connection is one of these. (The claim loop's and the
        // listener's connections are not in the pool: they stay open.)
        q.DataSource.Clear();
        var connections = new List<Npgsql.NpgsqlConnection>();
        var pids = new List<int>();
        for (var i = 0; i < 5; i++)
        {
            var connection = await q.DataSource.OpenConnectionAsync();
            connections.Add(connection);
            await using var pid = new Npgsql.NpgsqlCommand("SELECT pg_backend_pid()", connection);
            pids.Add((int)(await pid.ExecuteScalarAsync())!);
        }

        foreach (var connection in connections)
        {
            await connection.DisposeAsync();
        }

        var list = string.Join(",", pids);
        await direct.ExecAsync($"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid IN ({list})");
        await TestExtensions.EventuallyAsync(async () => await direct.ScalarAsync($"SELECT count(*) FROM pg_stat_activity WHERE pid IN ({list})") == 0,
            seconds: 60, what: "the server dropped the pool's idle connections");

        release.TrySetResult();
        // Read on a connection of the test's own: the worker's pool is the writer's to meet.
        await TestExtensions.EventuallyAsync(
            async () => await direct.ScalarAsync($"SELECT count(*) FROM jobs_test.jobs WHERE id = '{id}' AND state = {(int)JobState.Completed}") == 1,
            seconds: 60, what: "the job's outcome is recorded");
        await q.StopAsync();
        var seen = string.Join(", ", warnings.Entries.Select(e => $"({e.Count} outcomes, retrying in {e.Delay})"));
        Assert.True(warnings.Entries.IsEmpty, $"the outcome writer backed off for a connection the server had dropped: {seen}");
    }
}
