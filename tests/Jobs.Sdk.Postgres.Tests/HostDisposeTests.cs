using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>A Generic Host disposed without being stopped (a <c>using</c> left by an exception, a test's teardown).</summary>
[Collection(PostgresCollection.Name)]
public sealed class HostDisposeTests(PostgresFixture fixture)
{
    /// <summary>
    /// Disposing the host stops its services as a stop does: the worker drains, and the worker's presence row is removed
    /// (no ghost worker in <c>jobs status</c> and the dashboard until it expires) before the driver disposes the data
    /// source it built from the connection string; a running job that honours its token goes back to pending. Before, the
    /// presence service ran its final report after that data source was disposed: warnings (event 1403,
    /// <see cref="ObjectDisposedException"/>; with a job running also an error, event 1014, blaming a cancellation callback)
    /// and the row left behind.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Disposing_a_started_host_without_stopping_it_removes_its_worker_and_logs_no_warning(bool jobRunning)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var log = new LevelLog();
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.AddProvider(log);
        builder.Services.AddJobs(jobs => jobs
            .UsePostgres(fixture.ConnectionString, o =>
            {
                o.Schema = "jobs_test";
                o.QueueName = "hostdispose_" + Guid.NewGuid().ToString("N")[..8];
                o.PollInterval = TimeSpan.FromMilliseconds(100);
            })
            .AddJob<ValueJob>(async (_, _, ct) =>
            {
                started.TrySetResult();
                await Task.Delay(Timeout.Infinite, ct);
            })
            .AddWorkers(o =>
            {
                o.Concurrency = 1;
                o.ShutdownTimeout = TimeSpan.Zero; // the disposal cancels the running job at once
            }));
        var host = builder.Build();
        await host.StartAsync().WaitAsync(TimeSpan.FromSeconds(60));
        var workerId = host.Services.GetRequiredService<JobWorker>().WorkerId;
        await using var observer = fixture.CreateDataSource();
        var rows = $"SELECT count(*) FROM jobs_test.workers WHERE id = '{workerId.Replace("'", "''", StringComparison.Ordinal)}'";
        await TestExtensions.EventuallyAsync(async () => await observer.ScalarAsync(rows) == 1, 60, "the worker reports its presence");
        var job = jobRunning ? await host.Services.GetRequiredService<JobQueue>().PushAsync(new ValueJob(1)) : (JobId?)null;
        if (jobRunning)
        {
            await started.Task.WaitAsync(TimeSpan.FromSeconds(60));
        }

        await Task.Run(host.Dispose).WaitAsync(TimeSpan.FromSeconds(60));

        var left = await observer.ScalarAsync(rows);
        var state = job is { } id ? await observer.ScalarAsync($"SELECT state FROM jobs_test.jobs WHERE id = '{id}'") : 0;
        var logged = log.Errors.Concat(log.Warnings.Select(w => w.Entry))
            .Where(e => e.StartsWith("Jobs.Sdk", StringComparison.Ordinal) && !e.StartsWith("Jobs.Sdk.JobWorker[1009]", StringComparison.Ordinal)) // the running job interrupted by the zero ShutdownTimeout
            .ToArray();
        Assert.True(left == 0 && logged.Length == 0 && state == (int)JobState.Pending,
            $"After the host was disposed, its worker has {left} presence row(s), the job is {(JobState)state}; logged: {string.Join(Environment.NewLine, logged)}");
    }
    /// <summary>
    /// Disposing a started host without stopping it disposes the singletons its handlers created after the worker (an API
    /// client resolved by the first job) before it gets to the worker: a running handler whose client is disposed under it
    /// fails because its host is going away, not because of its job. Its job goes back to pending uncounted, as a stop's
    /// interruption does, instead of failing (here its last attempt: failed for good).
    /// </summary>
    [Fact]
    public async Task A_handler_whose_singleton_is_disposed_under_it_by_the_hosts_disposal_puts_its_job_back_uncounted()
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddSingleton<DisposableClient>();
        builder.Services.AddJobs(jobs => jobs
            .UsePostgres(fixture.ConnectionString, o =>
            {
                o.Schema = "jobs_test";
                o.QueueName = "hostdisposesingleton_" + Guid.NewGuid().ToString("N")[..8];
                o.PollInterval = TimeSpan.FromMilliseconds(100);
                o.Retention = new RetentionPolicy { FailedJobs = Retain.Yes };
            })
            .AddJob<ValueJob>(async (_, context, _) =>
            {
                var client = context.Services.GetRequiredService<DisposableClient>(); // created after the worker
                started.TrySetResult();
                await client.Disposed.WaitAsync(TimeSpan.FromSeconds(60), CancellationToken.None);
                client.Send();
            })
            .AddWorkers(o =>
            {
                o.Concurrency = 1;
                o.ShutdownTimeout = TimeSpan.FromSeconds(30); // the handler is not interrupted: its client is disposed under it
            }));
        var host = builder.Build();
        await host.StartAsync().WaitAsync(TimeSpan.FromSeconds(60));
        var id = await host.Services.GetRequiredService<JobQueue>().PushAsync(new ValueJob(1), new JobOptions { MaxAttempts = 1 });
        await started.Task.WaitAsync(TimeSpan.FromSeconds(60));

        await ((IAsyncDisposable)host).DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(60));

        await using var observer = fixture.CreateDataSource();
        await using var read = observer.CreateCommand($"SELECT state, attempts, coalesce(last_error, '') FROM jobs_test.jobs WHERE id = '{id}'");
        await using var row = await read.ExecuteReaderAsync();
        Assert.True(await row.ReadAsync(), "The job's row is gone.");
        var (state, attempts, error) = ((JobState)row.GetInt16(0), row.GetInt32(1), row.GetString(2));
        Assert.True(state == JobState.Pending && attempts == 0,
            $"After its host was disposed under its running handler, the job is {state} with {attempts} attempt(s) counted (error: {error}).");
    }

    private sealed class DisposableClient : IDisposable
    {
        private readonly TaskCompletionSource _disposed = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Disposed => _disposed.Task;

        public void Send() => ObjectDisposedException.ThrowIf(_disposed.Task.IsCompleted, this);

        public void Dispose() => _disposed.TrySetResult();
    }
}
