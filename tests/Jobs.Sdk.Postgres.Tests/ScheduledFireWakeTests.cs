using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// A scheduled job falls due at its fire time on the database clock (its run-at), whatever the clock of the scheduler that
/// pushed it. A scheduler on a machine whose clock runs ahead of the database's pushes each fire before it is due there
/// (by milliseconds on machines that keep time, by seconds on one that drifted): idle workers must learn when it falls
/// due, as they do for a delayed push, and not find it only at their next poll. Every worker here polls once an hour, so
/// only a notification can wake it within the test's timeout.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class ScheduledFireWakeTests(PostgresFixture fixture)
{
    private static readonly TimeSpan Hour = TimeSpan.FromHours(1);

    [Fact]
    public async Task A_fire_pushed_by_a_scheduler_whose_clock_runs_ahead_of_the_database_wakes_idle_workers_when_it_falls_due()
    {
        var queueName = "schedwake_" + Guid.NewGuid().ToString("N")[..8];
        var skew = TimeSpan.FromSeconds(5);
        var runs = new Recorder<DateTimeOffset?>();
        await using var workers = await TestQueue.CreateAsync(fixture,
            b => b.AddJob<ValueJob>((_, context, _) => { runs.Add(context.ScheduledAt); return Task.CompletedTask; }),
            driver: o => o.PollInterval = Hour, queueName: queueName);

        // The scheduling host (an API, say: no workers) runs 5 s ahead of the database; its timers are the system's.
        var clock = new ClockSkewTests.SkewedTimeProvider(skew);
        await using var scheduling = await TestQueue.CreateAsync(fixture, b =>
        {
            b.Services.AddSingleton<TimeProvider>(clock);
            b.AddJob<ValueJob>((_, _, _) => Task.CompletedTask).AddSchedule(_ => { });
        }, driver: o => o.PollInterval = Hour, queueName: queueName);
        var scheduler = scheduling.Services.GetRequiredService<JobScheduler>();

        await workers.StartAsync();
        await workers.ListeningAsync();
        // Everything is up: the entry's first fire comes a few seconds after the scheduler starts.
        var schedule = Schedule.EveryMinute(second: clock.GetUtcNow().AddSeconds(6).Second);
        var fire = schedule.GetNextOccurrence(clock.GetUtcNow())!.Value;
        scheduling.Services.GetRequiredService<JobSchedule>().Add(new ValueJob(1), schedule);
        await scheduler.StartAsync(CancellationToken.None);
        try
        {
            try
            {
                await runs.WaitForCountAsync(1, seconds: 40);
            }
            catch (TimeoutException)
            {
                Assert.Fail($"The fire of {fire:O}, pushed {skew.TotalSeconds:0} s before it was due by a scheduler whose clock runs ahead of the " +
                    $"database's, had not run 30 s after it fell due (workers poll hourly): {await JobsAsync(workers.DataSource, queueName)}");
            }

            Assert.Equal(fire, Assert.Single(runs.Items));
        }
        finally
        {
            await scheduler.StopAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
        }
    }

    /// <summary>The queue's jobs as "state, due at (database clock now)", for the failure message.</summary>
    private static async Task<string> JobsAsync(NpgsqlDataSource dataSource, string queueName)
    {
        await using var command = dataSource.CreateCommand("SELECT state, run_at, now() FROM jobs_test.jobs WHERE queue_name = $1 ORDER BY run_at");
        command.Parameters.Add(new NpgsqlParameter { Value = queueName });
        await using var reader = await command.ExecuteReaderAsync();
        var jobs = new List<string>();
        while (await reader.ReadAsync())
        {
            jobs.Add($"job {(JobState)reader.GetInt16(0)}, due at {reader.GetDateTime(1):HH:mm:ss.fff} (database clock now {reader.GetDateTime(2):HH:mm:ss.fff})");
        }

        return jobs.Count == 0 ? "no job stored" : string.Join("; ", jobs);
    }
}
