namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// Per-state counts come from delta rows kept by triggers (issue 15), not from counting jobs: they must equal a count of
/// the rows after every kind of change, across compaction, and after a TRUNCATE.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class CountTests(PostgresFixture fixture)
{
    [Fact]
    public async Task Counts_equal_the_rows_after_every_kind_of_change_and_after_compaction()
    {
        var failOdd = new Recorder<int>();
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>((job, _, _) =>
        {
            failOdd.Add(job.Value);
            return job.Value % 2 == 1 ? throw new InvalidOperationException("odd") : Task.CompletedTask;
        }), driver: d => d.Retention = new RetentionPolicy { CompletedJobs = Retain.Yes, FailedJobs = Retain.Yes, CancelledJobs = Retain.Yes },
            worker: o => o.Concurrency = 4);
        await q.Queue.PushManyAsync(Enumerable.Range(0, 40).Select(i => new ValueJob(i)), new JobOptions { MaxAttempts = 1 });
        var delayed = await q.Queue.PushAsync(new ValueJob(100), new JobOptions { DelayUntil = DateTimeOffset.UtcNow.AddHours(1) });
        var paused = await q.Queue.PushAsync(new ValueJob(101), new JobOptions { DelayUntil = DateTimeOffset.UtcNow.AddHours(1) });
        var cancelled = await q.Queue.PushAsync(new ValueJob(102), new JobOptions { DelayUntil = DateTimeOffset.UtcNow.AddHours(1) });
        await AssertCountsMatchRowsAsync(q);

        Assert.True(await q.Queue.PauseAsync(paused));
        Assert.True(await q.Queue.CancelAsync(cancelled));
        await q.StartAsync();
        await failOdd.WaitForCountAsync(40);
        await TestExtensions.EventuallyAsync(async () => (await q.Queue.GetCountsAsync()).Completed == 20, what: "outcomes recorded");
        await q.StopAsync();
        await AssertCountsMatchRowsAsync(q);
        var counts = await q.Queue.GetCountsAsync();
        Assert.Equal((1, 20, 20, 1, 1), (counts.Pending, counts.Completed, counts.Failed, counts.Paused, counts.Cancelled));

        await q.Queue.CleanupAsync(new CleanupOptions { FailedJobs = CleanupAction.Rerun, CompletedJobs = CleanupAction.Remove });
        await AssertCountsMatchRowsAsync(q);
        Assert.True(await q.Queue.ResumeAsync(paused));
        Assert.NotNull(await q.Queue.GetJobAsync(delayed));

        // Enough single changes to pass the compaction threshold: a read folds them, and still reads right.
        for (var i = 0; i < CountSql.CompactAfter + 10; i++)
        {
            await q.Queue.PushAsync(new ValueJob(1000 + i), new JobOptions { DelayUntil = DateTimeOffset.UtcNow.AddHours(1) });
        }

        Assert.True(await DeltaRowsAsync(q) > CountSql.CompactAfter);
        await AssertCountsMatchRowsAsync(q);
        Assert.True(await DeltaRowsAsync(q) <= 7, "a read past the threshold compacts the queue's rows to one per state");
        await AssertCountsMatchRowsAsync(q);
    }

    [Fact]
    public async Task Truncating_the_jobs_table_resets_the_counts()
    {
        await using var dataSource = fixture.CreateDataSource();
        var schema = "counts_" + Guid.NewGuid().ToString("N")[..8];
        await using var driver = new PostgresJobDriver(dataSource, new PostgresJobDriverOptions { Schema = schema, QueueName = "t" });
        await driver.PushAsync([new Drivers.JobPushRecord { Id = JobId.New(), Name = "x", Payload = "{}"u8.ToArray() }], null, default);
        Assert.Equal(1, (await driver.GetCountsAsync(default)).Pending);
        await dataSource.ExecAsync($"TRUNCATE {schema}.jobs");
        Assert.Equal(new JobCounts(), await driver.GetCountsAsync(default));
    }

    private static async Task AssertCountsMatchRowsAsync(TestQueue q)
    {
        var rows = new Dictionary<JobState, long>();
        await using (var command = q.DataSource.CreateCommand($"SELECT state, count(*) FROM jobs_test.jobs WHERE queue_name = '{q.Driver.QueueName}' GROUP BY state"))
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                rows[(JobState)reader.GetInt16(0)] = reader.GetInt64(1);
            }
        }

        Assert.Equal(JobCounts.From(rows), await q.Queue.GetCountsAsync());
    }

    private static Task<long> DeltaRowsAsync(TestQueue q)
        => q.DataSource.ScalarAsync($"SELECT count(*) FROM jobs_test.job_state_counts WHERE queue_name = '{q.Driver.QueueName}'");
}
