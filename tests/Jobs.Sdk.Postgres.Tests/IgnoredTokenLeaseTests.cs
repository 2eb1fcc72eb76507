using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// A handler that ignores its token keeps its job (README "Workers"): its lease stays renewed while it runs, also past its
/// job's timeout and past its host's stop, so another worker's rescue never runs it a second time at once, and the outcome
/// it ends with is recorded.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class IgnoredTokenLeaseTests(PostgresFixture fixture)
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(3);

    [Fact]
    public async Task A_handler_that_ignores_its_token_past_its_timeout_keeps_its_lease_and_its_late_success_is_recorded()
    {
        var held = new HeldHandler();
        var runs = 0;
        var queueName = "ignoredtimeout_" + Guid.NewGuid().ToString("N")[..6];
        Action<JobsBuilder> jobs = b => b.AddJob<ValueJob>((_, _, ct) =>
        {
            Interlocked.Increment(ref runs);
            return held.RunAsync(ct);
        }, o => o.Timeout = TimeSpan.FromSeconds(1));
        Action<JobWorkerOptions> worker = o =>
        {
            o.LeaseDuration = Lease;
            o.RescueInterval = TimeSpan.FromMilliseconds(300);
        };
        await using var first = await TestQueue.CreateAsync(fixture, jobs, worker: worker, queueName: queueName,
            driver: o => o.Retention = new RetentionPolicy { CompletedJobs = Retain.Yes, FailedJobs = Retain.Yes });
        await using var second = await TestQueue.CreateAsync(fixture, jobs, worker: worker, queueName: queueName);
        try
        {
            var id = await first.Queue.PushAsync(new ValueJob(1));
            await first.StartAsync();
            await held.Started.WaitAsync(TimeSpan.FromSeconds(60));
            await second.StartAsync(); // its rescue looks every 300 ms
            await held.TokenCancelled.WaitAsync(TimeSpan.FromSeconds(60)); // the timeout passed

            await LeaseStaysRenewedAsync(first, id, rounds: 6);
            held.Release();
            await TestExtensions.EventuallyAsync(async () => (await first.Queue.GetJobAsync(id))!.State != JobState.Processing, 60, "the late outcome is recorded");
            var job = (await first.Queue.GetJobAsync(id))!;
            Assert.True(job.State == JobState.Completed && job.Attempts == 1 && runs == 1,
                $"The job is {job.State} after {job.Attempts} attempt(s) and {runs} run(s) (error: {job.LastError}).");
        }
        finally
        {
            held.Release();
        }
    }

    [Fact]
    public async Task A_handler_that_ignores_its_token_past_its_hosts_stop_keeps_its_lease_and_its_late_success_is_recorded()
    {
        await using var dataSource = fixture.CreateDataSource();
        await PastTheHostsStopAsync("ignoredstop_", (jobs, configure) => jobs.UsePostgres(dataSource, configure));
    }

    /// <summary>
    /// The same with <c>UsePostgres(connectionString)</c>, whose data source the host owns: the host's disposal (after its stop
    /// returned) must not close the connections the worker still renews that lease with, and records the late outcome with.
    /// </summary>
    [Fact]
    public Task A_handler_that_ignores_its_token_past_its_hosts_disposal_keeps_its_lease_on_the_hosts_own_data_source()
        => PastTheHostsStopAsync("ignoredowned_", (jobs, configure) => jobs.UsePostgres(fixture.ConnectionString, configure));

    /// <summary>
    /// A host (its driver added by <paramref name="usePostgres"/>) whose handler ignores its token is stopped and disposed
    /// while the handler runs; another worker of the queue must see the job's lease renewed, and the late success recorded.
    /// </summary>
    private async Task PastTheHostsStopAsync(string queuePrefix, Func<JobsBuilder, Action<PostgresJobDriverOptions>, JobsBuilder> usePostgres)
    {
        var queueName = queuePrefix + Guid.NewGuid().ToString("N")[..6];
        var held = new HeldHandler();
        var runs = 0;
        var builder = Host.CreateApplicationBuilder();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromMilliseconds(200));
        builder.Services.AddJobs(jobs => usePostgres(jobs, o =>
            {
                o.Schema = "jobs_test";
                o.QueueName = queueName;
                o.PollInterval = TimeSpan.FromMilliseconds(100);
                o.Retention = new RetentionPolicy { CompletedJobs = Retain.Yes };
            })
            .AddJob<ValueJob>((_, _, ct) =>
            {
                Interlocked.Increment(ref runs);
                return held.RunAsync(ct);
            })
            .AddWorkers(o =>
            {
                o.Concurrency = 1;
                o.LeaseDuration = Lease;
            }));
        var host = builder.Build();
        try
        {
            var queue = host.Services.GetRequiredService<JobQueue>();
            await host.StartAsync();
            var id = await queue.PushAsync(new ValueJob(1));
            await held.Started.WaitAsync(TimeSpan.FromSeconds(60));
            await host.StopAsync().WaitAsync(TimeSpan.FromSeconds(60));
            await ((IAsyncDisposable)host).DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(60));
            Assert.True(held.TokenCancelled.IsCompleted && !held.Returned, "The handler was not cancelled by the stop, or returned.");

            await using var other = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>((_, _, _) =>
            {
                Interlocked.Increment(ref runs);
                return Task.CompletedTask;
            }), worker: o =>
            {
                o.LeaseDuration = Lease;
                o.RescueInterval = TimeSpan.FromMilliseconds(300);
            }, queueName: queueName, driver: o => o.Retention = new RetentionPolicy { CompletedJobs = Retain.Yes });
            await other.StartAsync();
            await LeaseStaysRenewedAsync(other, id, rounds: 6);
            held.Release();
            await TestExtensions.EventuallyAsync(async () => (await other.Queue.GetJobAsync(id))!.State != JobState.Processing, 60, "the late outcome is recorded");
            var job = (await other.Queue.GetJobAsync(id))!;
            Assert.True(job.State == JobState.Completed && job.Attempts == 1 && runs == 1,
                $"The job is {job.State} after {job.Attempts} attempt(s) and {runs} run(s) (error: {job.LastError}).");
        }
        finally
        {
            held.Release();
        }
    }

    /// <summary>
    /// Watches job <paramref name="id"/>'s row (database clock) until its lease was renewed <paramref name="rounds"/> times,
    /// failing as soon as it is not 'processing' under a lease that has not ended.
    /// </summary>
    private static async Task LeaseStaysRenewedAsync(TestQueue queue, JobId id, int rounds)
    {
        DateTime? last = null;
        var renewals = 0;
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (renewals < rounds)
        {
            Assert.True(DateTime.UtcNow < deadline, $"hang guard: {renewals} renewals seen");
            await using var look = queue.DataSource.CreateCommand(
                $"SELECT state, lease_expires_at, lease_expires_at > now(), format('%s', now()) FROM jobs_test.jobs WHERE id = '{id.Value}'");
            await using var reader = await look.ExecuteReaderAsync();
            Assert.True(await reader.ReadAsync(), "The job's row is gone.");
            var state = (JobState)reader.GetInt16(0);
            Assert.True(state == JobState.Processing && !reader.IsDBNull(1) && reader.GetBoolean(2),
                $"While its handler still ran, the job was {state} with lease {(reader.IsDBNull(1) ? "none" : reader.GetDateTime(1).ToString("O"))} at {reader.GetString(3)} (after {renewals} renewals).");
            var lease = reader.GetDateTime(1);
            if (last is { } seen && lease > seen)
            {
                renewals++;
            }

            last = lease;
            await Task.Delay(50);
        }
    }
}
