namespace Jobs.Sdk.Postgres.Tests;

/// <summary>What a graceful stop records for a handler that its shutdown cancellation interrupted.</summary>
[Collection(PostgresCollection.Name)]
public sealed class ShutdownOutcomeTests(PostgresFixture fixture)
{
    /// <summary>
    /// A handler that reports the shutdown cancellation in an exception of its own (a common pattern: catch the
    /// cancellation, throw a domain exception with it inside) stopped because it was interrupted; the job goes back to
    /// pending with its attempt not counted, as for a handler that lets the cancellation through, never failed.
    /// </summary>
    [Fact]
    public async Task A_handler_that_wraps_the_shutdown_cancellation_puts_its_job_back_uncounted()
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>(async (_, _, ct) =>
        {
            started.TrySetResult();
            try
            {
                await Task.Delay(Timeout.Infinite, ct);
            }
            catch (OperationCanceledException ex)
            {
                throw new InvalidOperationException("The report was interrupted.", ex);
            }
        }), driver: o => o.Retention = new RetentionPolicy { FailedJobs = Retain.Yes },
            worker: o => o.ShutdownTimeout = TimeSpan.Zero);

        var id = await q.Queue.PushAsync(new ValueJob(1), new JobOptions { MaxAttempts = 1 });
        await q.StartAsync();
        await started.Task.WaitAsync(TimeSpan.FromSeconds(60));
        await q.StopAsync();

        var job = (await q.Queue.GetJobAsync(id))!;
        Assert.True(job.State == JobState.Pending && job.Attempts == 0,
            $"After a graceful stop the interrupted job is {job.State} with {job.Attempts} attempt(s) counted (error: {job.LastError}).");
    }
}
