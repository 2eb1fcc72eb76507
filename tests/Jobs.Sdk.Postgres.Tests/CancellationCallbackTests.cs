using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// A handler registers a callback on its token that throws (<c>ct.Register(() => throw ...)</c>), and its job is cancelled:
/// the SDK cancels without waiting for the callbacks (a stuck Npgsql call runs its cancel request in one), so nobody awaits
/// the cancellation. Its failure must be logged once, saying what to fix, and must not reach
/// <see cref="TaskScheduler.UnobservedTaskException"/> (an app's error tracker) again at a random GC.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class CancellationCallbackTests(PostgresFixture fixture)
{
    [Fact]
    public async Task A_cancel_whose_handler_callback_throws_is_logged_once_and_leaves_no_unobserved_task_exception()
    {
        using var unobserved = new UnobservedTaskFaults();
        var log = new LevelLog();
        var callbacksRan = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var dataSource = fixture.CreateDataSource();
        using var host = BuildHost(dataSource, log, TimeSpan.FromSeconds(30), async (_, _, ct) =>
        {
            ct.Register(() => callbacksRan.TrySetResult()); // callbacks run last-registered first: this one after the throwing one
            ct.Register(() => throw unobserved.NewFault("the handler's cancellation callback threw"));
            started.TrySetResult();
            await Task.Delay(Timeout.Infinite, ct);
        });
        await host.StartAsync().WaitAsync(TimeSpan.FromSeconds(60));
        var queue = host.Services.GetRequiredService<JobQueue>();
        var id = await queue.PushAsync(new ValueJob(1), new JobOptions { MaxAttempts = 1 });
        await started.Task.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.True(await queue.CancelAsync(id));
        await callbacksRan.Task.WaitAsync(TimeSpan.FromSeconds(60));
        await TestExtensions.EventuallyAsync(async () => (await queue.GetJobAsync(id))?.State == JobState.Cancelled, 60, "the job is cancelled");

        await unobserved.AssertNoneReportedAsync();
        await AssertLoggedOnceAsync(log, id);
        await host.StopAsync().WaitAsync(TimeSpan.FromSeconds(60));
    }

    [Fact]
    public async Task A_host_stop_whose_handler_callback_throws_is_logged_once_and_leaves_no_unobserved_task_exception()
    {
        using var unobserved = new UnobservedTaskFaults();
        var log = new LevelLog();
        var callbacksRan = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var dataSource = fixture.CreateDataSource();
        using var host = BuildHost(dataSource, log, TimeSpan.Zero, async (_, _, ct) =>
        {
            ct.Register(() => callbacksRan.TrySetResult());
            ct.Register(() => throw unobserved.NewFault("the handler's cancellation callback threw"));
            started.TrySetResult();
            await Task.Delay(Timeout.Infinite, ct);
        });
        await host.StartAsync().WaitAsync(TimeSpan.FromSeconds(60));
        var queue = host.Services.GetRequiredService<JobQueue>();
        var id = await queue.PushAsync(new ValueJob(1), new JobOptions { MaxAttempts = 1 });
        await started.Task.WaitAsync(TimeSpan.FromSeconds(60));

        // The host's shutdown timeout has passed at once: the worker cancels the running job, which goes back to pending.
        await host.StopAsync().WaitAsync(TimeSpan.FromSeconds(60));
        await callbacksRan.Task.WaitAsync(TimeSpan.FromSeconds(60));
        await TestExtensions.EventuallyAsync(async () => (await queue.GetJobAsync(id))?.State == JobState.Pending, 60, "the job is back to pending");

        await unobserved.AssertNoneReportedAsync();
        await AssertLoggedOnceAsync(log, id);
    }

    private static IHost BuildHost(Npgsql.NpgsqlDataSource dataSource, LevelLog log, TimeSpan hostShutdownTimeout, Func<ValueJob, JobContext, CancellationToken, Task> handler)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(log);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = hostShutdownTimeout);
        builder.Services.AddJobs(jobs => jobs
            .UsePostgres(dataSource, o =>
            {
                o.Schema = "jobs_test";
                o.QueueName = "cbthrow_" + Guid.NewGuid().ToString("N")[..8];
                o.PollInterval = TimeSpan.FromMilliseconds(100);
                o.Retention = new RetentionPolicy { CancelledJobs = Retain.Yes };
            })
            .AddJob(handler)
            .AddWorkers(o => o.Concurrency = 1));
        return builder.Build();
    }

    /// <summary>Event 1014, once, naming the job and what to fix.</summary>
    private static async Task AssertLoggedOnceAsync(LevelLog log, JobId id)
    {
        await TestExtensions.EventuallyAsync(() => Task.FromResult(log.Errors.Any(static e => e.Contains("[1014]", StringComparison.Ordinal))), 60,
            "the callback's failure is logged");
        var entry = Assert.Single(log.Errors, static e => e.Contains("[1014]", StringComparison.Ordinal));
        Assert.Contains(id.ToString(), entry, StringComparison.Ordinal);
        Assert.Contains("must not throw", entry, StringComparison.Ordinal);
        Assert.Contains("the handler's cancellation callback threw", entry, StringComparison.Ordinal);
    }
}
