using Microsoft.Extensions.DependencyInjection;

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

    /// <summary>The system clock moved by <c>skew</c>; timers and timestamps are the system's (a machine whose wall clock is off).</summary>
    internal sealed class SkewedTimeProvider(TimeSpan skew) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + skew;
    }
}
