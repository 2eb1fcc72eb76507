using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// An app's logging provider that throws (a bug in it, or its sink down) must not stop a host's workers: the SDK logs from
/// its loops (claims, outcomes, renewals, rescue, the scheduler), and an entry that throws there used to end the loop while
/// the process looked healthy. Every job must still be claimed, run as often as its outcomes say (never again because an
/// entry about it threw) and recorded, expired leases rescued, and the host must stop without an error.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class ThrowingLoggerTests(PostgresFixture fixture)
{
    private static readonly Dictionary<string, Func<LogLevel, EventId, bool>> Faults = new()
    {
        ["every entry"] = static (_, _) => true,
        ["warnings and errors"] = static (level, _) => level >= LogLevel.Warning,
        ["worker started (1000)"] = static (_, id) => id.Id == 1000,
        ["job completed (1104)"] = static (_, id) => id.Id == 1104,
        ["rescued (1007)"] = static (_, id) => id.Id == 1007,
    };

    [Theory]
    [InlineData("every entry")]
    [InlineData("warnings and errors")]
    [InlineData("worker started (1000)")]
    [InlineData("job completed (1104)")]
    [InlineData("rescued (1007)")]
    public async Task A_worker_whose_logging_provider_throws_keeps_claiming_rescuing_and_recording_each_outcome_once(string throwsFor)
    {
        var log = new ThrowingLog(Faults[throwsFor]);
        var runs = new ConcurrentDictionary<int, int>();
        await using var dataSource = fixture.CreateDataSource();
        using var host = BuildHost(dataSource, log, (job, _, _) =>
        {
            var run = runs.AddOrUpdate(job.Value, 1, static (_, n) => n + 1);
            // 5 fails its first attempt (retried), 6 every attempt (failed for good); the others complete.
            return job.Value == 6 || (job.Value == 5 && run == 1)
                ? throw new InvalidOperationException($"job {job.Value} failed on run {run}")
                : Task.CompletedTask;
        });
        var driver = host.Services.GetRequiredService<PostgresJobDriver>();
        var queue = host.Services.GetRequiredService<JobQueue>();
        await driver.WaitUntilReadyAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60));
        var abandoned = await AbandonAsync(queue, driver, dataSource, new ValueJob(100)); // a dead worker's job, rescued at the worker's start

        await host.StartAsync().WaitAsync(TimeSpan.FromSeconds(60));
        var expected = new Dictionary<JobId, (int Value, JobState State, int Runs)> { [abandoned] = (100, JobState.Completed, 1) };
        for (var value = 1; value <= 6; value++)
        {
            var id = await queue.PushAsync(new ValueJob(value), new JobOptions { MaxAttempts = 2 });
            expected[id] = (value, value == 6 ? JobState.Failed : JobState.Completed, value is 5 or 6 ? 2 : 1);
        }

        await WaitForStatesAsync(queue, expected, runs, throwsFor);

        // Later work: another job, and a dead worker's job for a later rescue pass (of a name this worker does not claim, so
        // that the dead worker gets it: the rescue puts it back to retrying).
        expected[await AbandonAsync(queue, driver, dataSource, new OrphanJob(200))] = (200, JobState.Retrying, 0);
        expected[await queue.PushAsync(new ValueJob(7))] = (7, JobState.Completed, 1);
        await WaitForStatesAsync(queue, expected, runs, throwsFor);

        Assert.True(log.Thrown > 0, $"The provider never threw for '{throwsFor}': the test tested nothing.");
        var stop = await Record.ExceptionAsync(() => host.StopAsync().WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.True(stop is null, $"host.StopAsync with a logging provider that throws for {throwsFor} threw: {stop}");
        foreach (var (_, (value, _, times)) in expected)
        {
            Assert.True(runs.GetValueOrDefault(value) == times,
                $"Job {value} ran {runs.GetValueOrDefault(value)} time(s), {times} expected, with a logging provider that throws for {throwsFor}.");
        }
    }

    /// <summary>
    /// The scheduler logs as it starts and as it pushes: with a provider that throws, its entries must still fire (two
    /// entries of one minute, a few seconds apart, stand for consecutive fires without waiting a minute).
    /// </summary>
    [Theory]
    [InlineData("every entry")]
    [InlineData("scheduler started (1200)")]
    public async Task A_scheduler_whose_logging_provider_throws_pushes_its_fires(string throwsFor)
    {
        var log = new ThrowingLog(throwsFor == "every entry" ? static (_, _) => true : static (_, id) => id.Id == 1200);
        var runs = new Recorder<int>();
        await using var dataSource = fixture.CreateDataSource();
        var second = DateTimeOffset.UtcNow.AddSeconds(8).Second; // after the host is up: a slow start moves the fires a minute
        using var host = BuildHost(dataSource, log, (job, _, _) =>
        {
            runs.Add(job.Value);
            return Task.CompletedTask;
        }, jobs => jobs.AddSchedule(s => s
            .Add(new ValueJob(1), Schedule.EveryMinute(second), key: "first")
            .Add(new ValueJob(2), Schedule.EveryMinute((second + 2) % 60), key: "second")));
        await host.StartAsync().WaitAsync(TimeSpan.FromSeconds(60));

        var fired = await Record.ExceptionAsync(() => runs.WaitForCountAsync(2, seconds: 90));
        Assert.True(fired is null,
            $"With a logging provider that throws for {throwsFor}, the scheduler's two entries due within 70 s ran: [{string.Join(", ", runs.Items)}]");
        Assert.Equal([1, 2], runs.Items.Order());
        Assert.True(log.Thrown > 0, $"The provider never threw for '{throwsFor}': the test tested nothing.");
        var stop = await Record.ExceptionAsync(() => host.StopAsync().WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.True(stop is null, $"host.StopAsync with a logging provider that throws for {throwsFor} threw: {stop}");
    }

    /// <summary>
    /// <c>UsePostgres(connectionString)</c> builds its data source with the app's logger factory, and Npgsql logs every
    /// command it completes (Information, Npgsql.Command): a provider that throws for Npgsql's entries must neither fail a
    /// push whose job was stored nor a claim that took its jobs.
    /// </summary>
    [Fact]
    public async Task A_host_whose_logging_provider_throws_for_npgsqls_entries_pushes_and_runs_each_job_once()
    {
        // Information and up, as in an app's default settings: every completed command (event 2001), after it ran.
        var log = new ThrowingLog(static (level, _) => level >= LogLevel.Information, "Npgsql");
        var runs = new ConcurrentDictionary<int, int>();
        using var host = BuildHost(null, log, (job, _, _) =>
        {
            runs.AddOrUpdate(job.Value, 1, static (_, n) => n + 1);
            return Task.CompletedTask;
        }, connectionString: fixture.ConnectionString);
        await host.StartAsync().WaitAsync(TimeSpan.FromSeconds(60));
        var queue = host.Services.GetRequiredService<JobQueue>();

        var expected = new Dictionary<JobId, (int Value, JobState State, int Runs)>();
        for (var value = 1; value <= 3; value++)
        {
            JobId id = default;
            var push = await Record.ExceptionAsync(async () => id = await queue.PushAsync(new ValueJob(value)));
            Assert.True(push is null, $"Pushing job {value} with a logging provider that throws for Npgsql's entries threw: {push}");
            expected[id] = (value, JobState.Completed, 1);
        }

        await WaitForStatesAsync(queue, expected, runs, "Npgsql's entries");
        Assert.True(log.Thrown > 0, "The provider never threw for Npgsql's entries: the test tested nothing.");
        var stop = await Record.ExceptionAsync(() => host.StopAsync().WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.True(stop is null, $"host.StopAsync with a logging provider that throws for Npgsql's entries threw: {stop}");
        Assert.All(expected.Values, e => Assert.True(runs.GetValueOrDefault(e.Value) == 1, $"Job {e.Value} ran {runs.GetValueOrDefault(e.Value)} time(s), once expected."));
    }

    /// <summary>Pushes a job that a dead worker claimed and whose lease then expired (on the database clock).</summary>
    private static async Task<JobId> AbandonAsync<TJob>(JobQueue queue, PostgresJobDriver driver, NpgsqlDataSource dataSource, TJob job)
        where TJob : IJob<TJob>
    {
        var id = await queue.PushAsync(job, new JobOptions { MaxAttempts = 3 });
        var claimed = await driver.ClaimAsync(new Drivers.JobClaimRequest("dead-worker", 1, TimeSpan.FromSeconds(30)) { JobNames = [TJob.JobName] },
            CancellationToken.None);
        Assert.Equal(id, Assert.Single(claimed).Id);
        await using var expire = dataSource.CreateCommand(
            "UPDATE jobs_test.jobs SET lease_expires_at = now() - interval '1 second' WHERE id = $1 AND lease_expires_at IS NOT NULL");
        expire.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id.Value });
        Assert.Equal(1, await expire.ExecuteNonQueryAsync());
        return id;
    }

    private static async Task WaitForStatesAsync(JobQueue queue, Dictionary<JobId, (int Value, JobState State, int Runs)> expected,
        ConcurrentDictionary<int, int> runs, string throwsFor)
    {
        var states = new List<string>();
        await TestExtensions.EventuallyAsync(async () =>
        {
            states.Clear();
            var done = true;
            foreach (var (id, (value, state, _)) in expected)
            {
                var actual = (await queue.GetJobAsync(id))?.State;
                done &= actual == state;
                states.Add($"{value}: {actual?.ToString() ?? "gone"} (ran {runs.GetValueOrDefault(value)})");
            }

            return done;
        }, 60, () => $"with a logging provider that throws for {throwsFor}, the jobs reach their outcomes: {string.Join(", ", states)}");
    }

    private static IHost BuildHost(NpgsqlDataSource? dataSource, ThrowingLog log, Func<ValueJob, JobContext, CancellationToken, Task> handler,
        Action<JobsBuilder>? more = null, string? connectionString = null)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Trace);
        builder.Logging.AddProvider(log);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(10));
        builder.Services.AddJobs(jobs =>
        {
            void Options(PostgresJobDriverOptions o)
            {
                o.Schema = "jobs_test";
                o.QueueName = "logthrow_" + Guid.NewGuid().ToString("N")[..8];
                o.PollInterval = TimeSpan.FromMilliseconds(100);
                o.Retention = new RetentionPolicy { CompletedJobs = Retain.Yes, FailedJobs = Retain.Yes };
            }

            (dataSource is null ? jobs.UsePostgres(connectionString!, Options) : jobs.UsePostgres(dataSource, Options))
                .ConfigureQueue(q => q.DefaultRetryStrategy = JobRetryStrategy.ExponentialJitter(maxAttempts: 2, maxBackoff: TimeSpan.FromMilliseconds(10)))
                .AddJob(handler)
                .AddWorkers(o =>
                {
                    o.Concurrency = 2;
                    o.RescueInterval = TimeSpan.FromMilliseconds(500);
                });
            more?.Invoke(jobs);
        });
        return builder.Build();
    }
}
