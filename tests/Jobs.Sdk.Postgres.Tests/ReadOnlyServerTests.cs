using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using Xunit.Abstractions;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// The server turns read-only (<c>default_transaction_read_only</c>, as a planned switchover, a blue/green cut-over or a
/// full disk makes it): every write fails with SQLSTATE 25006 while reads still work. The worker backs off, keeps the
/// outcomes it could not write, and carries on when writes work again; no job runs twice.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class ReadOnlyServerTests(PostgresFixture fixture, ITestOutputHelper output)
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(3);

    [Fact]
    public async Task A_job_that_completed_while_the_server_was_read_only_is_recorded_once_writes_work_again_and_never_runs_twice()
    {
        // Read-only is a setting of the whole cluster: a cluster of the test's own.
        await using var cluster = await LocalPostgresCluster.StartAsync();
        await using var admin = PostgresJobsBuilderExtensions.CreateDataSource(cluster.ConnectionString);
        var runs = new ConcurrentDictionary<int, int>();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var logs = new LevelLog();
        await using var setup = await TestQueue.CreateAsync(fixture, b =>
            {
                b.Services.AddLogging(l => l.AddProvider(logs));
                b.AddJob<ValueJob>(async (job, _, _) =>
                {
                    runs.AddOrUpdate(job.Value, 1, (_, n) => n + 1);
                    if (job.Value == 0)
                    {
                        started.TrySetResult();
                        await release.Task; // ends while the server is read-only: its outcome cannot be written then
                    }
                });
            },
            worker: o =>
            {
                o.Concurrency = 2;
                o.LeaseDuration = Lease;
                o.RescueInterval = TimeSpan.FromMilliseconds(200);
            },
            dataSource: PostgresJobsBuilderExtensions.CreateDataSource(cluster.ConnectionString));
        await setup.StartAsync();
        var held = await setup.Queue.PushAsync(new ValueJob(0));
        await started.Task.WaitAsync(TimeSpan.FromSeconds(60));

        await SetReadOnlyAsync(admin, true);
        var refused = await Assert.ThrowsAnyAsync<Exception>(() => setup.Queue.PushAsync(new ValueJob(1)));
        output.WriteLine($"push while read-only: {refused.GetType().Name}: {refused.Message}");
        Assert.Equal(PostgresErrorCodes.ReadOnlySqlTransaction, Assert.IsAssignableFrom<PostgresException>(refused).SqlState);

        release.TrySetResult();
        // The job's lease ends on the server while nothing can be written (the renewals fail too): the rescue could take
        // it back as soon as writes work again.
        var table = "jobs_test.jobs";
        await TestExtensions.EventuallyAsync(async () => await admin.ScalarAsync(
            $"SELECT count(*) FROM {table} WHERE id = '{held.Value}' AND state = {(int)JobState.Processing} AND lease_expires_at < now() - interval '1 second'") == 1,
            seconds: 60, what: "the held job's lease ended on the read-only server");
        var outageWarnings = logs.Warnings.Count;

        await SetReadOnlyAsync(admin, false);
        try
        {
            await TestExtensions.EventuallyAsync(async () => await DoneAsync(setup.Queue, held), seconds: 60,
                what: "the held job's outcome recorded once writes work again");
        }
        catch (TimeoutException)
        {
            var info = await setup.Queue.GetJobAsync(held);
            output.WriteLine($"held job: {info?.State} attempts {info?.Attempts} worker {info?.WorkerId} runs {runs[0]}");
            foreach (var (at, entry) in logs.Warnings.TakeLast(30))
            {
                output.WriteLine($"{at:HH:mm:ss.fff} {entry}");
            }

            throw;
        }
        var after = await setup.Queue.PushAsync(new ValueJob(2));
        await TestExtensions.EventuallyAsync(async () => await DoneAsync(setup.Queue, after), seconds: 60,
            what: "a job pushed after the outage runs");
        await setup.StopAsync();

        output.WriteLine($"warnings during the outage: {outageWarnings}; all: {logs.Warnings.Count}");
        foreach (var (_, entry) in logs.Warnings.Take(40))
        {
            output.WriteLine(entry);
        }

        Assert.Equal(1, runs[0]);
        Assert.Equal(1, runs[2]);
        Assert.False(runs.ContainsKey(1));
        Assert.Empty(logs.Errors);
    }

    /// <summary>
    /// A host that starts while the server is read-only (a deploy during a failover or a switchover) and has a migration to
    /// apply waits for writes, then runs jobs: its schema check retries 25006 as it retries a server it cannot reach,
    /// instead of leaving the workers stopped until the app restarts.
    /// </summary>
    [Fact]
    public async Task A_worker_that_starts_while_the_server_is_read_only_starts_once_writes_work_again()
    {
        // A new cluster: the start-up must create the schema.
        await using var cluster = await LocalPostgresCluster.StartAsync();
        await using var admin = PostgresJobsBuilderExtensions.CreateDataSource(cluster.ConnectionString);
        var queueName = "read_only_start_" + Guid.NewGuid().ToString("N")[..8];
        await SetReadOnlyAsync(admin, true);
        var logs = new LevelLog();
        var ran = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var creating = TestQueue.CreateAsync(fixture, b =>
            {
                b.Services.AddLogging(l => l.AddProvider(logs));
                b.AddJob<ValueJob>((_, _, _) =>
                {
                    ran.TrySetResult();
                    return Task.CompletedTask;
                });
            },
            queueName: queueName, dataSource: PostgresJobsBuilderExtensions.CreateDataSource(cluster.ConnectionString));
        await TestExtensions.EventuallyAsync(() => Task.FromResult(creating.IsCompleted || !logs.Warnings.IsEmpty), seconds: 60,
            what: "the start-up's schema check tried the read-only server");
        output.WriteLine(string.Join("\n", logs.Warnings.Select(w => w.Entry).Concat(logs.Errors)));

        await SetReadOnlyAsync(admin, false);
        await using var queue = await creating.WaitAsync(TimeSpan.FromSeconds(60));
        await queue.StartAsync();
        await queue.Queue.PushAsync(new ValueJob(1));
        await ran.Task.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Empty(logs.Errors);
        Assert.Contains(logs.Warnings, w => w.Entry.Contains("[2003]", StringComparison.Ordinal)); // the retry, logged
    }

    /// <summary>Whether the job completed (a completed job is removed unless the queue keeps it).</summary>
    internal static async Task<bool> DoneAsync(JobQueue queue, JobId id) => await queue.GetJobAsync(id) is null or { State: JobState.Completed };

    /// <summary>Turns the whole cluster read-only (or back), and waits until a new session sees it.</summary>
    internal static async Task SetReadOnlyAsync(NpgsqlDataSource admin, bool on)
    {
        await using (var connection = await admin.OpenConnectionAsync())
        {
            await using (var set = new NpgsqlCommand($"ALTER SYSTEM SET default_transaction_read_only = {(on ? "on" : "off")}", connection))
            {
                await set.ExecuteNonQueryAsync();
            }

            await using var reload = new NpgsqlCommand("SELECT pg_reload_conf()", connection);
            await reload.ExecuteNonQueryAsync();
        }

        var expected = on ? "on" : "off";
        await TestExtensions.EventuallyAsync(async () =>
        {
            await using var connection = await admin.OpenConnectionAsync();
            await using var show = new NpgsqlCommand("SHOW default_transaction_read_only", connection);
            return (string?)await show.ExecuteScalarAsync() == expected;
        }, seconds: 60, what: $"default_transaction_read_only = {expected}");
    }
}
