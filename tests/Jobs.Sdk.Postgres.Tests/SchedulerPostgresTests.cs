using Npgsql;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// Issue 6 on real PostgreSQL: several scheduler processes on one queue push each fire exactly once, also when one of them
/// dies; the scheduled cleanup job only touches its own queue.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class SchedulerPostgresTests(PostgresFixture fixture)
{
    private const string Schema = "jobs_test";
    private const string EveryMinute = "every-minute";
    private const string Every5Minutes = "every-5-minutes";
    private static readonly TimeSpan Step = TimeSpan.FromMinutes(1);

    [Fact]
    public async Task Three_schedulers_push_each_fire_once_and_two_survivors_carry_on_without_gap_or_duplicate()
    {
        var queueName = "sched3_" + Guid.NewGuid().ToString("N")[..8];

        // Fake time, well in the future of the database clock: the pushed jobs are never due, nothing depends on that.
        var start = new DateTimeOffset(2031, 3, 1, 10, 0, 30, TimeSpan.Zero);
        var nodes = Enumerable.Range(0, 3).Select(_ => PostgresSchedulerNode.Create(fixture, Schema, queueName, start, s => s
            .Add(new ValueJob(1), Schedule.EveryMinute(), key: EveryMinute)
            .Add(new ValueJob(5), Schedule.Cron("*/5 * * * *"), key: Every5Minutes))).ToList();
        try
        {
            foreach (var node in nodes)
            {
                await node.StartAsync();
            }

            await SettleAsync(nodes);

            // A simulated hour, one minute at a time, every clock advanced in lockstep.
            await AdvanceAsync(nodes, TimeSpan.FromHours(1));
            var firstHourEnd = start.AddHours(1);
            var expected = ExpectedFires(start, firstHourEnd);
            Assert.Equal(60, expected[EveryMinute].Count);
            Assert.Equal(12, expected[Every5Minutes].Count);
            await AssertExactlyOnceAsync(queueName, expected);
            AssertProbes(nodes, expected);

            // Kill one scheduler; the other two carry on for 30 more minutes.
            var killed = nodes[0];
            await killed.DisposeAsync();
            var killedHandled = killed.Probe.Handled.Count;
            var survivors = nodes.Skip(1).ToList();
            await AdvanceAsync(survivors, TimeSpan.FromMinutes(30));

            expected = ExpectedFires(start, firstHourEnd.AddMinutes(30));
            Assert.Equal(90, expected[EveryMinute].Count);
            Assert.Equal(18, expected[Every5Minutes].Count);
            await AssertExactlyOnceAsync(queueName, expected);
            AssertProbes(survivors, ExpectedFires(firstHourEnd, firstHourEnd.AddMinutes(30)));
            Assert.Equal(killedHandled, killed.Probe.Handled.Count);
            Assert.All(nodes, n => Assert.Equal(0, n.Probe.RetryCount));
        }
        finally
        {
            foreach (var node in nodes)
            {
                await node.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task A_node_that_falls_more_than_a_day_behind_in_an_All_catch_up_does_not_push_pruned_fires_again()
    {
        // Two nodes, same clock, ScheduleAccuracy.All, three days of hourly fires missed. Node B stalls between two fires
        // of its catch-up (a GC pause, a store retry backoff, a slow connection) while node A pushes the rest and prunes
        // the fire records more than a day below its latest fire. When B goes on, every fire it reaches is already pushed.
        const string Key = "hourly-all";
        var queueName = "schedlag_" + Guid.NewGuid().ToString("N")[..8];
        var start = new DateTimeOffset(2031, 3, 1, 10, 30, 0, TimeSpan.Zero); // future of the database clock: nothing is due
        Action<JobSchedule> schedule = s => s.Add(new ValueJob(1), Schedule.Hourly(), ScheduleAccuracy.All, key: Key);
        var stalled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var now = start.AddDays(3).AddHours(1); // 2031-03-04 11:30
        var b = PostgresSchedulerNode.Create(fixture, Schema, queueName, start, schedule);
        var a = PostgresSchedulerNode.Create(fixture, Schema, queueName, now, schedule);
        try
        {
            await b.StartAsync();
            await b.SettledAsync();
            b.Time.Advance(TimeSpan.FromHours(1)); // 11:30: B pushes 11:00, the entry's history
            await b.SettledAsync();
            Assert.Equal(1, b.Probe.PushedCount(Key));

            // Three days down: B catches up from 12:00 and stalls right after it.
            var firstCatchUp = start.AddMinutes(90);
            b.Scheduler.FireHandled += (_, fire, _) =>
            {
                if (fire == firstCatchUp)
                {
                    stalled.TrySetResult();
                    release.Task.Wait(TimeSpan.FromMinutes(2)); // hang guard
                }
            };
            b.Time.Advance(now - b.Time.GetUtcNow());
            await stalled.Task.WaitAsync(TimeSpan.FromSeconds(30));

            // A, on the same clock, catches up the rest (13:00 on the 1st … 11:00 on the 4th) while B stalls.
            await a.StartAsync();
            await a.SettledAsync();
            Assert.Equal(71, a.Probe.PushedCount(Key));

            release.SetResult();
            await b.SettledAsync();

            var expected = Enumerable.Range(0, 73).Select(h => start.AddMinutes(30).AddHours(h)).ToList(); // 11:00 on the 1st … 11:00 on the 4th
            await using var dataSource = fixture.CreateDataSource();
            await using var command = dataSource.CreateCommand($"SELECT run_at, count(*) FROM {Schema}.jobs WHERE queue_name = $1 GROUP BY run_at ORDER BY run_at");
            command.Parameters.Add(new NpgsqlParameter { Value = queueName });
            var jobs = new List<(DateTimeOffset RunAt, long Count)>();
            await using (var reader = await command.ExecuteReaderAsync())
            {
                while (await reader.ReadAsync())
                {
                    jobs.Add((new DateTimeOffset(DateTime.SpecifyKind(reader.GetDateTime(0), DateTimeKind.Utc)), reader.GetInt64(1)));
                }
            }

            Assert.Equal(expected, jobs.Select(j => j.RunAt));
            Assert.All(jobs, j => Assert.True(j.Count == 1, $"{j.Count} jobs for the fire of {j.RunAt:O}"));
            Assert.Equal(expected.Count, a.Probe.PushedCount(Key) + b.Probe.PushedCount(Key));
        }
        finally
        {
            release.TrySetResult();
            await a.DisposeAsync();
            await b.DisposeAsync();
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Cleanup_job_of_one_queue_leaves_the_other_queue_of_the_schema_alone(bool fireFromSchedule)
    {
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var cleanup = new CleanupOptions { FailedJobs = CleanupAction.Remove };
        var retainFailed = new RetentionPolicy { FailedJobs = Retain.Yes };
        JobSchedule? scheduleA = null;
        await using var a = await TestQueue.CreateAsync(fixture,
            jobs => jobs.AddSchedule(s => scheduleA = s.AddCleanup(cleanup, Schedule.EveryMinute(), key: "cleanup")),
            driver: o => o.Retention = retainFailed, queueName: "cleanA_" + suffix);
        await using var b = await TestQueue.CreateAsync(fixture,
            jobs => jobs.AddSchedule(s => s.AddCleanup(cleanup, Schedule.EveryMinute(), key: "cleanup")),
            driver: o => o.Retention = retainFailed, queueName: "cleanB_" + suffix);

        var failedA = await FailJobsAsync(a, 3);
        var failedB = await FailJobsAsync(b, 2);
        Assert.Equal(3, (await a.Queue.GetCountsAsync()).Failed);
        Assert.Equal(2, (await b.Queue.GetCountsAsync()).Failed);

        await a.StartAsync();
        JobId cleanupId;
        if (fireFromSchedule)
        {
            // A scheduler process of queue A (no workers) whose fake clock starts 90 s behind the database's: its first fire
            // (the next whole minute) is already due by the database clock once the fake clock has moved a minute on.
            await using var node = PostgresSchedulerNode.Create(fixture, Schema, a.Queue.QueueName, DateTimeOffset.UtcNow.AddSeconds(-90),
                s => s.AddCleanup(cleanup, Schedule.EveryMinute(), key: "cleanup"));
            await node.StartAsync();
            await node.SettledAsync();
            node.Time.Advance(Step);
            await node.SettledAsync();
            var fire = Assert.Single(node.Probe.Handled);
            Assert.True(fire.Pushed);
            await using var dataSource = fixture.CreateDataSource();
            await using var command = dataSource.CreateCommand($"SELECT job_id FROM {Schema}.schedule_fires WHERE queue_name = $1 AND entry_key = 'cleanup'");
            command.Parameters.Add(new NpgsqlParameter { Value = a.Queue.QueueName });
            cleanupId = new JobId((Guid)(await command.ExecuteScalarAsync())!);
        }
        else
        {
            // Push queue A's built-in cleanup job exactly as its schedule entry would.
            var entry = Assert.Single(scheduleA!.Entries);
            var runtime = new JobsRuntime(a.Driver, new JobRegistry([]), new JobQueueOptions(), TimeProvider.System, []);
            var cleanupRecord = entry.CreateRecord(runtime, new JobOptions(), new Dictionary<string, string>(StringComparer.Ordinal)
            {
                [JobHeaders.ScheduleEntry] = entry.Key,
            });
            Assert.Equal("jobs.cleanup:" + a.Queue.QueueName, cleanupRecord.Name);
            await a.Driver.PushAsync([cleanupRecord], null, CancellationToken.None);
            cleanupId = cleanupRecord.Id;
        }

        // A's worker runs it: the job is gone (completed jobs are not retained) or completed; it must not have failed.
        await TestExtensions.EventuallyAsync(async () =>
        {
            var info = await a.Queue.GetJobAsync(cleanupId);
            Assert.NotEqual(JobState.Failed, info?.State);
            return info is null || info.State == JobState.Completed;
        }, what: "queue A's cleanup job to finish");
        await a.StopAsync();

        Assert.Equal(0, (await a.Queue.GetCountsAsync()).Failed);
        foreach (var id in failedA)
        {
            Assert.Null(await a.Queue.GetJobAsync(id));
        }

        var countsB = await b.Queue.GetCountsAsync();
        Assert.Equal(2, countsB.Failed);
        foreach (var id in failedB)
        {
            Assert.Equal(JobState.Failed, (await b.Queue.GetJobAsync(id))?.State);
        }

        // Counted straight from the table too, per queue.
        Assert.Equal(0, await a.DataSource.ScalarAsync(
            $"SELECT count(*) FROM {Schema}.jobs WHERE queue_name = '{a.Queue.QueueName}' AND name = '{ValueJob.JobName}'"));
        Assert.Equal(2, await b.DataSource.ScalarAsync(
            $"SELECT count(*) FROM {Schema}.jobs WHERE queue_name = '{b.Queue.QueueName}' AND name = '{ValueJob.JobName}'"));
    }

    /// <summary>Pushes <paramref name="count"/> one-attempt jobs and fails them through the driver (no worker).</summary>
    private static async Task<IReadOnlyList<JobId>> FailJobsAsync(TestQueue q, int count)
    {
        var records = Enumerable.Range(0, count).Select(i => new Drivers.JobPushRecord
        {
            Id = JobId.New(),
            Name = ValueJob.JobName,
            Payload = System.Text.Encoding.UTF8.GetBytes($"{{\"value\":{i}}}"),
            MaxAttempts = 1,
        }).ToList();
        await q.Driver.PushAsync(records, null, CancellationToken.None);
        var claimed = await q.Driver.ClaimAsync(new Drivers.JobClaimRequest("failer", count, TimeSpan.FromMinutes(5)), CancellationToken.None);
        Assert.Equal(count, claimed.Count);
        await q.Driver.CompleteAsync("failer",
            claimed.Select(c => new Drivers.JobOutcome(c.Id, JobOutcomeKind.Failed, c.Attempt, Error: "boom", LeaseToken: c.LeaseToken)).ToList(), CancellationToken.None);
        return records.Select(r => r.Id).ToList();
    }

    private static async Task SettleAsync(IEnumerable<PostgresSchedulerNode> nodes)
    {
        foreach (var node in nodes)
        {
            await node.SettledAsync();
        }
    }

    /// <summary>Advances every node's clock by one minute at a time, letting all of them settle after each step.</summary>
    private static async Task AdvanceAsync(IReadOnlyList<PostgresSchedulerNode> nodes, TimeSpan by)
    {
        for (var elapsed = TimeSpan.Zero; elapsed < by; elapsed += Step)
        {
            foreach (var node in nodes)
            {
                node.Time.Advance(Step);
            }

            await SettleAsync(nodes);
        }
    }

    /// <summary>The fire times in (<paramref name="from"/>, <paramref name="to"/>] per entry key.</summary>
    private static Dictionary<string, List<DateTimeOffset>> ExpectedFires(DateTimeOffset from, DateTimeOffset to)
    {
        var result = new Dictionary<string, List<DateTimeOffset>>(StringComparer.Ordinal) { [EveryMinute] = [], [Every5Minutes] = [] };
        for (var t = new DateTimeOffset(from.Year, from.Month, from.Day, from.Hour, from.Minute, 0, TimeSpan.Zero).AddMinutes(1); t <= to; t = t.AddMinutes(1))
        {
            result[EveryMinute].Add(t);
            if (t.Minute % 5 == 0)
            {
                result[Every5Minutes].Add(t);
            }
        }

        return result;
    }

    /// <summary>
    /// Reads the queue's fire records and jobs from the database: one fire record and one job per expected fire time, no
    /// other fire and no other job (the fire table's key forbids duplicate records; the job count catches duplicate pushes).
    /// </summary>
    private async Task AssertExactlyOnceAsync(string queueName, Dictionary<string, List<DateTimeOffset>> expected)
    {
        await using var dataSource = fixture.CreateDataSource();

        var fires = new List<(string Key, DateTimeOffset Fire, bool JobMatches)>();
        await using (var command = dataSource.CreateCommand($"""
            SELECT f.entry_key, f.fire_time, j.id IS NOT NULL AND j.run_at = f.fire_time AND j.headers ->> '{JobHeaders.ScheduleEntry}' = f.entry_key
            FROM {Schema}.schedule_fires f LEFT JOIN {Schema}.jobs j ON j.id = f.job_id
            WHERE f.queue_name = $1 ORDER BY f.entry_key, f.fire_time
            """))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = queueName });
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                fires.Add((reader.GetString(0), new DateTimeOffset(DateTime.SpecifyKind(reader.GetDateTime(1), DateTimeKind.Utc)), reader.GetBoolean(2)));
            }
        }

        var jobs = new List<(string Key, DateTimeOffset RunAt, long Count)>();
        await using (var command = dataSource.CreateCommand($"""
            SELECT headers ->> '{JobHeaders.ScheduleEntry}', run_at, count(*) FROM {Schema}.jobs
            WHERE queue_name = $1 GROUP BY 1, 2 ORDER BY 1, 2
            """))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = queueName });
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                jobs.Add((reader.GetString(0), new DateTimeOffset(DateTime.SpecifyKind(reader.GetDateTime(1), DateTimeKind.Utc)), reader.GetInt64(2)));
            }
        }

        foreach (var (key, times) in expected)
        {
            Assert.Equal(times, fires.Where(f => f.Key == key).Select(f => f.Fire));
            Assert.Equal(times, jobs.Where(j => j.Key == key).Select(j => j.RunAt));
        }

        Assert.Equal(expected.Values.Sum(v => v.Count), fires.Count);
        Assert.All(fires, f => Assert.True(f.JobMatches, $"fire {f.Key}@{f.Fire:O} has no matching job"));
        Assert.All(jobs, j => Assert.True(j.Count == 1, $"{j.Count} jobs for {j.Key}@{j.RunAt:O}"));
        Assert.Equal(fires.Count, jobs.Count);
    }

    /// <summary>Every node handled every expected fire once, and across the nodes exactly one pushed it.</summary>
    private static void AssertProbes(IReadOnlyList<PostgresSchedulerNode> nodes, Dictionary<string, List<DateTimeOffset>> expected)
    {
        var window = expected.SelectMany(kv => kv.Value.Select(t => (kv.Key, t))).ToHashSet();
        var handled = nodes.Select(n => n.Probe.Handled.Where(h => window.Contains((h.Key, h.Fire))).ToList()).ToList();
        foreach (var node in handled)
        {
            Assert.Equal(window.Count, node.Count);
            Assert.Equal(window.Count, node.Select(h => (h.Key, h.Fire)).Distinct().Count());
        }

        foreach (var fire in window)
        {
            Assert.Equal(1, handled.Sum(n => n.Count(h => (h.Key, h.Fire) == fire && h.Pushed)));
        }
    }
}
