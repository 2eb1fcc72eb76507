using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// Worker machines whose clocks are minutes off the database's: what the store decides with its own clock (due times,
/// leases, retention) must not move by the skew of the machine that reported it.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class ClockSkewTests(PostgresFixture fixture)
{
    [Theory]
    [InlineData(-10)]
    [InlineData(10)]
    public async Task A_reschedule_to_a_time_runs_at_that_time_on_the_database_clock_whatever_the_worker_clock(int skewMinutes)
    {
        var runs = new Recorder<int>();
        DateTimeOffset until = default;
        await using var q = await TestQueue.CreateAsync(fixture, b =>
        {
            // This machine's clock is minutes off the database's (the timers and timestamps stay the system's).
            b.Services.AddSingleton<TimeProvider>(new SkewedTimeProvider(TimeSpan.FromMinutes(skewMinutes)));
            b.AddJob<ValueJob>((_, _, _) =>
            {
                runs.Add(1);
                throw new JobRescheduleException(until.ToOffset(TimeSpan.FromHours(2))); // a time with an offset, as users write them
            });
        });
        await using (var dataSource = fixture.CreateDataSource())
        await using (var now = dataSource.CreateCommand("SELECT now()"))
        {
            // An hour from now on the database clock, to the microsecond (what timestamptz keeps).
            var dbNow = (DateTime)(await now.ExecuteScalarAsync())!;
            until = new DateTimeOffset(DateTime.SpecifyKind(dbNow, DateTimeKind.Utc)).AddHours(1);
        }

        var id = await q.Queue.PushAsync(new ValueJob(1));
        await q.StartAsync();
        await runs.WaitForCountAsync(1);
        await TestExtensions.EventuallyAsync(async () => (await q.Queue.GetJobAsync(id))?.State == JobState.Pending, what: "the job was rescheduled");

        var info = (await q.Queue.GetJobAsync(id))!;
        Assert.True((info.RunAt - until).Duration() < TimeSpan.FromSeconds(1),
            $"The job asked to run again at {until:O} (database clock) is due at {info.RunAt:O}: off by {info.RunAt - until} on a worker whose clock is {skewMinutes} min off");
    }

    [Theory]
    [InlineData(-10)]
    [InlineData(10)]
    public async Task The_queue_wait_metric_measures_the_wait_on_the_database_clock_whatever_the_worker_clock(int skewMinutes)
    {
        var queueName = "skew_wait_" + Guid.NewGuid().ToString("N")[..8];
        var waits = new ConcurrentQueue<double>();
        using var meters = new MeterListener();
        meters.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == JobsDiagnostics.MeterName && instrument.Name == JobsDiagnostics.QueueWaitInstrument)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        meters.SetMeasurementEventCallback<double>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "messaging.destination.name" && (string?)tag.Value == queueName)
                {
                    waits.Enqueue(value);
                }
            }
        });
        meters.Start();

        await using var q = await TestQueue.CreateAsync(fixture, b =>
        {
            b.Services.AddSingleton<TimeProvider>(new SkewedTimeProvider(TimeSpan.FromMinutes(skewMinutes)));
            b.AddJob<ValueJob>((_, _, _) => Task.CompletedTask);
        }, queueName: queueName);
        var id = await q.Queue.PushAsync(new ValueJob(1));
        // The job has been due for five minutes (on the database clock) when a worker takes it.
        await q.DataSource.ExecAsync(
            $"UPDATE jobs_test.jobs SET created_at = created_at - interval '5 minutes', run_at = run_at - interval '5 minutes' WHERE id = '{id}'");
        await q.StartAsync();
        await TestExtensions.EventuallyAsync(() => Task.FromResult(!waits.IsEmpty), what: "the attempt recorded its queue wait");

        var wait = Assert.Single(waits);
        Assert.True(wait is >= 300 and < 360,
            $"jobs.queue.wait recorded {wait:0.#} s for a job due for 5 min (300 s) on a worker whose clock is {skewMinutes} min off the database's");
    }

    /// <summary>
    /// A scheduler pushes each fire when its own clock reaches it, and the fire falls due by the database's: a host whose clock
    /// is minutes off pushes every fire minutes early or late (alone, its jobs run late), and one more than a day ahead makes
    /// the other hosts count the entry's fires as pushed. Nothing said so; the scheduler now compares the clocks when it
    /// starts and warns (event 1212) naming the difference. A host on time says nothing.
    /// </summary>
    [Theory]
    [InlineData(-10, true)]
    [InlineData(10, true)]
    [InlineData(0, false)]
    public async Task A_scheduler_whose_clock_is_off_the_databases_warns_when_it_starts(int skewMinutes, bool warns)
    {
        var logs = new EventIdLog();
        var clock = new SkewedTimeProvider(TimeSpan.FromMinutes(skewMinutes));
        await using var q = await TestQueue.CreateAsync(fixture, b =>
        {
            b.Services.AddSingleton<TimeProvider>(clock);
            b.Services.AddLogging(l => l.AddProvider(logs));
            b.AddJob<ValueJob>((_, _, _) => Task.CompletedTask).AddSchedule(s => s.Add(new ValueJob(1), Schedule.Hourly()));
        });
        var scheduler = q.Services.GetRequiredService<JobScheduler>();
        var probe = new Jobs.Sdk.Testing.SchedulerProbe();
        probe.Attach(scheduler);
        var started = clock.GetUtcNow();
        await scheduler.StartAsync(CancellationToken.None);
        try
        {
            await probe.SettledAsync(q.Services.GetRequiredService<JobSchedule>().Entries.Select(e => e.Key), started); // its entry waits
            Assert.True(logs.Ids.Contains(1212) == warns,
                $"A scheduler whose clock is {skewMinutes} min off the database's {(warns ? "logged no" : "logged a")} clock warning (event 1212); " +
                $"events: {string.Join(", ", logs.Ids.Order())}");
        }
        finally
        {
            await scheduler.StopAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
        }
    }

    /// <summary>The system clock moved by <c>skew</c>; timers and timestamps are the system's (a machine whose wall clock is off).</summary>
    internal sealed class SkewedTimeProvider(TimeSpan skew) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + skew;
    }
}
