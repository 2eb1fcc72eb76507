using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using Xunit.Abstractions;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// A real failover: a primary and its streaming hot standby; the worker connects with a multi-host connection string
/// (<c>Host=primary,standby;Target Session Attributes=primary</c>). The primary stops, the standby is promoted: the worker
/// follows it (claims, outcomes, LISTEN) and every job runs exactly once.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class FailoverTests(PostgresFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public Task A_worker_on_a_multi_host_connection_string_follows_a_promoted_standby_and_runs_every_job_once() => FailoverAsync(hostRecheckSeconds: null);

    /// <summary>
    /// Npgsql remembers each host's state (offline, standby) for Host Recheck Seconds (10 by default) and meanwhile does
    /// not try it: a worker that tried the standby before its promotion would not use it until then (ten more seconds of
    /// outage after the promotion by default, here ten minutes). The driver makes Npgsql look again after a failed open.
    /// </summary>
    [Fact]
    public Task A_worker_that_found_the_standby_still_in_recovery_uses_it_once_promoted() => FailoverAsync(hostRecheckSeconds: 600);

    private async Task FailoverAsync(int? hostRecheckSeconds)
    {
        await using var primary = await LocalPostgresCluster.StartAsync();
        await using var standby = await primary.StartStandbyAsync();
        await using var onPrimary = PostgresJobsBuilderExtensions.CreateDataSource(primary.ConnectionString);
        await using var onStandby = PostgresJobsBuilderExtensions.CreateDataSource(standby.ConnectionString);
        var both = $"Host=127.0.0.1:{primary.Port},127.0.0.1:{standby.Port};Target Session Attributes=primary;Username=postgres;Database=postgres;Timeout=5;Maximum Pool Size=20"
            + (hostRecheckSeconds is { } recheck ? $";Host Recheck Seconds={recheck}" : "");
        var logs = new LevelLog();
        var runs = new ConcurrentDictionary<int, int>();
        var holding = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var setup = await TestQueue.CreateAsync(fixture, b => b
                .AddJob<ValueJob>(async (job, _, _) =>
                {
                    runs.AddOrUpdate(job.Value, 1, (_, n) => n + 1);
                    if (job.Value == 0)
                    {
                        holding.TrySetResult();
                        await release.Task; // runs across the failover: its outcome goes to the new primary
                    }
                })
                .Services.AddLogging(l => l.AddProvider(logs)),
            // No polling to speak of: a job pushed on the new primary runs only if the worker LISTENs there.
            driver: o => o.PollInterval = TimeSpan.FromMinutes(10),
            worker: o =>
            {
                o.Concurrency = 4;
                o.LeaseDuration = TimeSpan.FromSeconds(10);
                o.RescueInterval = TimeSpan.FromMilliseconds(500);
            },
            dataSource: PostgresJobsBuilderExtensions.CreateDataSource(both));
        await setup.StartAsync();

        var held = await setup.Queue.PushAsync(new ValueJob(0));
        await holding.Task.WaitAsync(TimeSpan.FromSeconds(60));
        var before = await setup.Queue.PushManyAsync(Enumerable.Range(1, 50).Select(i => new ValueJob(i)));
        await TestExtensions.EventuallyAsync(() => Task.FromResult(Enumerable.Range(1, 50).All(runs.ContainsKey)), seconds: 60, what: "the first 50 jobs ran");
        await WaitForReplayAsync(onPrimary, onStandby);

        // A fast stop: the primary's sessions end, and its standby receives all of its WAL before it exits.
        await primary.StopAsync("fast");
        var stopped = DateTime.UtcNow;
        if (hostRecheckSeconds is not null)
        {
            // The worker finds no primary (the old one gone, the standby still in recovery): Npgsql remembers both states.
            var seen = logs.Warnings.Count;
            await TestExtensions.EventuallyAsync(() => Task.FromResult(logs.Warnings.Skip(seen).Any(w => w.Entry.Contains("suitable host", StringComparison.Ordinal))),
                seconds: 60, what: "a write failed for want of a primary");
        }

        await standby.PromoteAsync();
        var promoted = DateTime.UtcNow;

        // Pushed on the new primary directly: the worker learns of it only through LISTEN (its poll is 10 minutes).
        var after = await PushOnAsync(standby.ConnectionString, setup.Queue.QueueName, 51);
        release.TrySetResult();
        await TestExtensions.EventuallyAsync(() => Task.FromResult(runs.ContainsKey(51)), seconds: 60, what: "a job pushed on the new primary ran");
        output.WriteLine($"promotion took {(promoted - stopped).TotalSeconds:F1} s; the job pushed on the new primary ran {(DateTime.UtcNow - promoted).TotalSeconds:F1} s after it");
        var viaClient = await setup.Queue.PushAsync(new ValueJob(52));
        await TestExtensions.EventuallyAsync(async () => await ReadOnlyServerTests.DoneAsync(setup.Queue, held) && await ReadOnlyServerTests.DoneAsync(setup.Queue, viaClient),
            seconds: 60, what: "the held job's outcome and a job pushed through the client recorded on the new primary");
        await setup.StopAsync();

        Assert.All(Enumerable.Range(0, 53), i => Assert.Equal(1, runs.GetValueOrDefault(i)));
        Assert.Equal(0, await onStandby.ScalarAsync($"SELECT count(*) FROM jobs_test.jobs WHERE queue_name = '{setup.Queue.QueueName}' AND state <> {(int)JobState.Completed}"));
        Assert.NotEqual(default, after);
        Assert.Equal(50, before.Count);
    }

    /// <summary>Waits until the standby has replayed all the WAL the primary has written so far.</summary>
    private static async Task WaitForReplayAsync(NpgsqlDataSource primary, NpgsqlDataSource standby)
    {
        await using var lsn = primary.CreateCommand("SELECT pg_current_wal_lsn()::text");
        var target = (string)(await lsn.ExecuteScalarAsync())!;
        await TestExtensions.EventuallyAsync(async () =>
            await standby.ScalarAsync($"SELECT (pg_last_wal_replay_lsn() >= '{target}'::pg_lsn)::int") == 1, seconds: 60, what: "the standby replayed the primary's WAL");
    }

    /// <summary>Pushes ValueJob(<paramref name="value"/>) with another client (a process of its own, say) on <paramref name="connectionString"/>.</summary>
    private async Task<JobId> PushOnAsync(string connectionString, string queueName, int value)
    {
        await using var other = await TestQueue.CreateAsync(fixture, _ => { }, queueName: queueName, dataSource: PostgresJobsBuilderExtensions.CreateDataSource(connectionString));
        return await other.Queue.PushAsync(new ValueJob(value));
    }
}
