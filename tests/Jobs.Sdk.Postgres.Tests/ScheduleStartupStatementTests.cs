using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// A host that registers thousands of recurring schedules: its scheduler's start-up must not cost one round trip per entry
/// (each entry's last recorded fire time was read by a statement of its own, 5,000 statements for 5,000 entries).
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class ScheduleStartupStatementTests(PostgresFixture fixture)
{
    private const string Schema = "jobs_test";
    private const int Entries = 5_000;

    [Fact]
    public async Task A_scheduler_of_5000_cron_and_interval_entries_reads_their_last_fire_times_in_one_statement()
    {
        var queueName = "schedscale_" + Guid.NewGuid().ToString("N")[..8];
        // Fake time, well in the future of the database clock: no entry is due at start, so the scheduler only reads.
        var time = new FakeTimeProvider(new DateTimeOffset(2031, 3, 1, 10, 0, 30, TimeSpan.Zero));
        await using var sent = new SentBatches(fixture);
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(time);
        services.AddJobs(jobs => jobs
            .UsePostgres(sent.DataSource, o =>
            {
                o.Schema = Schema;
                o.QueueName = queueName;
            })
            .AddSchedule(s =>
            {
                for (var i = 0; i < Entries; i++)
                {
                    // Half cron (minute and hour vary), half interval rules (every minute, on minutes of the hour).
                    var schedule = (i % 4) switch
                    {
                        0 => Schedule.Cron($"{i % 60} {i / 60 % 24} * * *"),
                        1 => Schedule.Cron($"*/{1 + i % 30} * * * *"),
                        2 => Schedule.EveryMinute(second: i % 60),
                        _ => Schedule.OnMinutes([i % 60], second: 0),
                    };
                    s.Add(new ValueJob(i), schedule, key: $"entry-{i}");
                }
            }));
        await using var provider = services.BuildServiceProvider();
        var scheduler = provider.GetRequiredService<JobScheduler>();
        var probe = new SchedulerProbe();
        probe.Attach(scheduler);
        var keys = provider.GetRequiredService<JobSchedule>().Entries.Select(e => e.Key).ToArray();
        Assert.Equal(Entries, keys.Length);

        await scheduler.StartAsync(CancellationToken.None);
        try
        {
            // Every entry has read where it resumes from and waits for its next fire.
            await probe.SettledAsync(keys, time.GetUtcNow());

            var reads = sent.Batches.Count(b => b.Any(c => c.Contains("max(fire_time)", StringComparison.Ordinal)
                && c.Contains("schedule_fires", StringComparison.Ordinal)));
            Assert.True(reads <= 1,
                $"The scheduler's start-up sent {reads} statements to read the last fire times of its {Entries} entries (expected one for all of them).");
            Assert.Equal(0, probe.RetryCount);
            Assert.Empty(probe.Handled);
        }
        finally
        {
            await scheduler.StopAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60));
        }
    }
}
