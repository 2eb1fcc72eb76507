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

    /// <summary>An exception whose <see cref="Exception.Message"/> (and so its <see cref="Exception.ToString"/>) throws.</summary>
    private sealed class UnreadableException : Exception
    {
        public override string Message => throw new InvalidOperationException("the message getter threw");
    }
}
