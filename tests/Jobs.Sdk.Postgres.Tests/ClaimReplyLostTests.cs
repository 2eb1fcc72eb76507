using Npgsql;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// A claim whose reply is lost after the database committed it (the connection resets on the way back, or the worker's
/// stop cancels it as the rows arrive) took jobs the worker never heard of. They must not wait out a lease and come back
/// as a failed attempt: their handler never started, so the attempt is not counted, and with one attempt allowed the
/// job must still run. An outcome whose reply is lost after its commit is written again harmlessly: the next attempt
/// runs once, after the first.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class ClaimReplyLostTests(PostgresFixture fixture)
{
    [Fact]
    public async Task A_job_whose_claim_reply_was_lost_runs_once_with_its_attempt_uncounted()
    {
        var connection = new NpgsqlConnectionStringBuilder(fixture.ConnectionString);
        await using var proxy = TcpProxy.Start(connection.Host!, connection.Port);
        await using var direct = fixture.CreateDataSource();
        var runs = new Recorder<int>();
        var workerId = "claim-lost-" + Guid.NewGuid().ToString("N");
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>((_, ctx, _) =>
        {
            runs.Add(ctx.Attempt);
            return Task.CompletedTask;
        }),
            driver: o => o.Retention = new RetentionPolicy { CompletedJobs = Retain.Yes },
            worker: o =>
            {
                o.WorkerId = workerId;
                o.Concurrency = 1;
                o.LeaseDuration = TimeSpan.FromSeconds(3);
                o.RescueInterval = TimeSpan.FromMilliseconds(200);
            },
            dataSource: fixture.CreateDataSource(b =>
            {
                b.Host = "127.0.0.1";
                b.Port = proxy.Port;
            }));
        var id = await q.Queue.PushAsync(new ValueJob(1), new JobOptions { MaxAttempts = 1 });

        // The worker's first claim (the first request naming the worker) reaches the server; its reply is held, then lost.
        proxy.HoldRepliesAfter(workerId);
        await q.StartAsync();
        await TestExtensions.EventuallyAsync(async () => await direct.ScalarAsync(
            $"SELECT count(*) FROM jobs_test.jobs WHERE id = '{id.Value}' AND state = {(int)JobState.Processing}") == 1, what: "the claim committed");
        proxy.CutHeld();

        await TestExtensions.EventuallyAsync(async () => (await q.Queue.GetJobAsync(id))?.State is JobState.Completed or JobState.Failed,
            seconds: 60, what: "the job finished");
        var info = (await q.Queue.GetJobAsync(id))!;
        Assert.True(info.State == JobState.Completed, $"The job ended {info.State} ({info.LastError}) after {runs.Count} run(s) of its handler.");
        Assert.Equal([1], runs.Items);
        Assert.Equal(1, info.Attempts);
        await q.StopAsync();
    }

    [Fact]
    public async Task A_retry_whose_write_committed_with_its_reply_lost_runs_the_next_attempt_once_and_completes()
    {
        var connection = new NpgsqlConnectionStringBuilder(fixture.ConnectionString);
        await using var proxy = TcpProxy.Start(connection.Host!, connection.Port);
        var marker = "lost-outcome-" + Guid.NewGuid().ToString("N");
        var runs = new Recorder<int>();
        var secondStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>((_, ctx, _) =>
        {
            runs.Add(ctx.Attempt);
            if (ctx.Attempt == 1)
            {
                throw new InvalidOperationException(marker);
            }

            secondStarted.TrySetResult();
            return Task.CompletedTask;
        }),
            driver: o => o.Retention = new RetentionPolicy { CompletedJobs = Retain.Yes },
            worker: o => o.Concurrency = 1,
            dataSource: fixture.CreateDataSource(b =>
            {
                b.Host = "127.0.0.1";
                b.Port = proxy.Port;
            }));
        var id = await q.Queue.PushAsync(new ValueJob(1), new JobOptions { MaxAttempts = 3 });

        // The retry outcome (its error text carries the marker) commits; its reply is held, then lost.
        proxy.HoldRepliesAfter(marker);
        await q.StartAsync();
        await secondStarted.Task.WaitAsync(TimeSpan.FromSeconds(60));
        proxy.CutHeld();

        await TestExtensions.EventuallyAsync(async () => (await q.Queue.GetJobAsync(id))?.State is JobState.Completed or JobState.Failed,
            seconds: 60, what: "the job finished");
        var info = (await q.Queue.GetJobAsync(id))!;
        Assert.Equal(JobState.Completed, info.State);
        Assert.Equal([1, 2], runs.Items);
        Assert.Equal(2, info.Attempts);
        await q.StopAsync();
    }
}
