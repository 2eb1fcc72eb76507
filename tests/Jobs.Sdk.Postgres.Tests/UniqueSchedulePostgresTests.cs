using Jobs.Sdk.Drivers;
using Jobs.Sdk.Testing;
using Npgsql;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// A unique job type on a schedule, on real PostgreSQL with two scheduler nodes: a fire whose key is held (by a waiting
/// job, or by a finished one within UniqueFor) is recorded once and pushes nothing; a scheduled job holds its key against
/// later unique pushes.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class UniqueSchedulePostgresTests(PostgresFixture fixture)
{
    private const string Schema = "jobs_test";
    private const string Entry = "unique-entry";

    // Fake time, well in the future of the database clock: scheduled jobs are never due, nothing depends on that.
    private static readonly DateTimeOffset Start = new(2031, 3, 1, 10, 30, 0, TimeSpan.Zero);

    [Fact]
    public async Task Two_nodes_push_nothing_for_a_fire_whose_key_a_waiting_job_holds_and_a_scheduled_job_holds_its_key()
    {
        var queueName = "schedunq_" + Guid.NewGuid().ToString("N")[..8];
        await using var driver = await DriverAsync(queueName);
        var queue = Queue(driver);
        Action<JobSchedule> schedule = s => s.Add(new UniqueValueJob(7), Schedule.Hourly(), ScheduleAccuracy.All, key: Entry);
        await using var a = PostgresSchedulerNode.Create(fixture, Schema, queueName, Start, schedule);
        await using var b = PostgresSchedulerNode.Create(fixture, Schema, queueName, Start, schedule);

        var holder = await queue.TryPushAsync(new UniqueValueJob(7));
        Assert.True(holder.Inserted);
        await a.StartAsync();
        await b.StartAsync();
        await a.SettledAsync();
        await b.SettledAsync();
        await AdvanceAsync(TimeSpan.FromMinutes(30), a, b); // 11:00, held by the waiting holder

        var eleven = Start.AddMinutes(30);
        Assert.Equal([eleven], await FiresAsync(queueName));
        Assert.Equal([holder.Id], await JobsAsync(queueName));
        Assert.Equal(0, a.Probe.PushedCount(Entry) + b.Probe.PushedCount(Entry));
        // One node recorded the fire without a job (the key held by the holder), the other found it recorded.
        Assert.Equal(
            [new ScheduledFireResult(ScheduledFireOutcome.AlreadyRecorded, null), new ScheduledFireResult(ScheduledFireOutcome.KeyHeld, holder.Id)],
            a.Probe.Results.Concat(b.Probe.Results).Select(r => r.Result).OrderBy(r => r.Outcome));
        Assert.Equal(new JobPushResult(holder.Id, false), await queue.TryPushAsync(new UniqueValueJob(7)));

        // The holder runs and finishes (UniqueFor 0): 12:00 pushes once, and its job holds the key.
        await CompleteAllAsync(driver, holder.Id);
        await AdvanceAsync(TimeSpan.FromHours(1), a, b);
        Assert.Equal(1, a.Probe.PushedCount(Entry) + b.Probe.PushedCount(Entry));
        Assert.Equal([eleven, eleven.AddHours(1)], await FiresAsync(queueName));
        var scheduled = Assert.Single(await JobsAsync(queueName));
        Assert.Equal(new JobPushResult(scheduled, false), await queue.TryPushAsync(new UniqueValueJob(7)));

        // 13:00: held by the 12:00 job, still waiting.
        await AdvanceAsync(TimeSpan.FromHours(1), a, b);
        Assert.Equal(1, a.Probe.PushedCount(Entry) + b.Probe.PushedCount(Entry));
        Assert.Equal([eleven, eleven.AddHours(1), eleven.AddHours(2)], await FiresAsync(queueName));
        Assert.Equal([scheduled], await JobsAsync(queueName));
        Assert.All([a, b], n => Assert.Equal(0, n.Probe.RetryCount));
    }

    [Fact]
    public async Task UniqueFor_after_a_scheduled_job_finished_holds_against_the_next_fire()
    {
        var queueName = "schedunq_" + Guid.NewGuid().ToString("N")[..8];
        await using var driver = await DriverAsync(queueName); // default retention: completed jobs are deleted
        var queue = Queue(driver);
        await using var node = PostgresSchedulerNode.Create(fixture, Schema, queueName, Start,
            s => s.Add(new HeldValueJob(1, 0), Schedule.Hourly(), key: Entry));
        await node.StartAsync();
        await node.SettledAsync();
        await AdvanceAsync(TimeSpan.FromMinutes(30), node); // 11:00 pushes
        var first = Assert.Single(await JobsAsync(queueName));
        await CompleteAllAsync(driver, first); // finished now (database clock): the key holds for an hour of it

        await AdvanceAsync(TimeSpan.FromHours(1), node); // 12:00: held
        Assert.Equal([Start.AddMinutes(30), Start.AddMinutes(90)], await FiresAsync(queueName));
        Assert.Equal([first], await JobsAsync(queueName)); // kept only for the hold
        Assert.Equal(1, node.Probe.PushedCount(Entry));
        Assert.Equal(new ScheduledFireResult(ScheduledFireOutcome.KeyHeld, first), node.Probe.Results[^1].Result);
        Assert.Equal(new JobPushResult(first, false), await queue.TryPushAsync(new HeldValueJob(1, 99)));
    }

    private async Task<PostgresJobDriver> DriverAsync(string queueName)
    {
        var driver = new PostgresJobDriver(fixture.CreateDataSource(), new PostgresJobDriverOptions { Schema = Schema, QueueName = queueName },
            logger: null, timeProvider: null, ownsDataSource: true);
        await driver.WaitUntilReadyAsync(default);
        return driver;
    }

    private static JobQueue Queue(IJobDriver driver) => new(new JobsRuntime(driver, new JobRegistry([]), new JobQueueOptions(), TimeProvider.System, []));

    /// <summary>Claims every job of the queue (run_at in the far future included: moved to now first) and completes <paramref name="id"/>.</summary>
    private async Task CompleteAllAsync(PostgresJobDriver driver, JobId id)
    {
        await using (var command = driver.DataSource.CreateCommand($"UPDATE {Schema}.jobs SET run_at = now() WHERE id = $1"))
        {
            command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id.Value });
            Assert.Equal(1, await command.ExecuteNonQueryAsync());
        }

        var job = Assert.Single(await driver.ClaimAsync(new JobClaimRequest("test", 10, TimeSpan.FromMinutes(5)), default));
        Assert.Equal(id, job.Id);
        await driver.CompleteAsync("test", [new JobOutcome(job.Id, JobOutcomeKind.Completed, job.Attempt, LeaseToken: job.LeaseToken)], default);
    }

    private static async Task AdvanceAsync(TimeSpan by, params PostgresSchedulerNode[] nodes)
    {
        foreach (var node in nodes)
        {
            node.Time.Advance(by);
        }

        foreach (var node in nodes)
        {
            await node.SettledAsync();
        }
    }

    private async Task<List<DateTimeOffset>> FiresAsync(string queueName)
    {
        await using var dataSource = fixture.CreateDataSource();
        await using var command = dataSource.CreateCommand($"SELECT fire_time FROM {Schema}.schedule_fires WHERE queue_name = $1 AND entry_key = $2 ORDER BY fire_time");
        command.Parameters.Add(new NpgsqlParameter { Value = queueName });
        command.Parameters.Add(new NpgsqlParameter { Value = Entry });
        var fires = new List<DateTimeOffset>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            fires.Add(new DateTimeOffset(DateTime.SpecifyKind(reader.GetDateTime(0), DateTimeKind.Utc)));
        }

        return fires;
    }

    private async Task<List<JobId>> JobsAsync(string queueName)
    {
        await using var dataSource = fixture.CreateDataSource();
        await using var command = dataSource.CreateCommand($"SELECT id FROM {Schema}.jobs WHERE queue_name = $1 ORDER BY created_at, id");
        command.Parameters.Add(new NpgsqlParameter { Value = queueName });
        var jobs = new List<JobId>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            jobs.Add(new JobId(reader.GetGuid(0)));
        }

        return jobs;
    }
}
