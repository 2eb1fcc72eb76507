namespace Jobs.Sdk.Postgres.Tests;

/// <summary>Whatever a handler throws, its attempt gets an outcome: the job never stays processing behind a dropped lease.</summary>
[Collection(PostgresCollection.Name)]
public sealed class HandlerExceptionTests(PostgresFixture fixture)
{
    [Fact]
    public async Task An_exception_whose_Message_throws_fails_the_attempt_with_a_recorded_error()
    {
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>((_, _, _) => throw new UnreadableException()),
            // A lease far longer than the test: only a recorded outcome can end the attempt, not a rescue.
            worker: o => o.LeaseDuration = TimeSpan.FromMinutes(10));
        var id = await q.Queue.PushAsync(new ValueJob(1), new JobOptions { MaxAttempts = 1 });
        await q.StartAsync();

        await TestExtensions.EventuallyAsync(async () => (await q.Queue.GetJobAsync(id))?.State == JobState.Failed, what: "the job failed");
        var info = (await q.Queue.GetJobAsync(id))!;
        Assert.Equal(1, info.Attempts);
        Assert.Contains(typeof(UnreadableException).FullName!, info.LastError, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("reschedule")]
    [InlineData("retry")]
    public async Task A_delay_past_year_9999_keeps_the_job_readable_and_waiting(string how)
    {
        var runs = new Recorder<int>();
        await using var q = await TestQueue.CreateAsync(fixture, b => b
            .AddJob<ValueJob>((_, _, _) =>
            {
                runs.Add(1);
                throw how == "reschedule" ? new JobRescheduleException(TimeSpan.MaxValue) : new InvalidOperationException("later");
            }, o => o.RetryStrategy = new FarRetry()));
        var id = await q.Queue.PushAsync(new ValueJob(1));
        await q.StartAsync();
        await runs.WaitForCountAsync(1);

        // The run time used to be stored past what DateTimeOffset holds: every read of the job then threw.
        await TestExtensions.EventuallyAsync(async () => (await q.Queue.GetJobAsync(id))?.State is JobState.Pending or JobState.Retrying, what: "the job waits");
        var info = (await q.Queue.GetJobAsync(id))!;
        Assert.True(info.RunAt > DateTimeOffset.UtcNow.AddYears(7_000), $"run at {info.RunAt:O}");
        Assert.Equal(1, runs.Count);
    }

    /// <summary>Retries once, after the longest delay a <see cref="TimeSpan"/> holds.</summary>
    private sealed class FarRetry : IJobRetryStrategy
    {
        public int MaxAttempts => 2;

        public bool ShouldRetry(int attempt, Exception error) => true;

        public TimeSpan GetDelay(int attempt, Exception error) => TimeSpan.MaxValue;

        public IJobRetryStrategy WithMaxAttempts(int maxAttempts) => this;
    }

    /// <summary>An exception whose <see cref="Exception.Message"/> (and so its <see cref="Exception.ToString"/>) throws.</summary>
    private sealed class UnreadableException : Exception
    {
        public override string Message => throw new InvalidOperationException("the message getter threw");
    }
}
