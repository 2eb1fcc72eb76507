using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// Workers on a connection pool that is too small for them, or shared with handlers that hold its connections: the host
/// fails at start naming the pool size and the minimum, and handlers cannot starve the worker's lease renewals.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class PoolSizeTests(PostgresFixture fixture)
{
    /// <summary>
    /// A pool that cannot hold what a worker keeps open for good (the LISTEN connection, the lease-renewal connection) plus
    /// one for its claims and outcomes: before, the host started and the worker logged "The connection pool has been
    /// exhausted" every 15 s forever, no job ever ran (Maximum Pool Size 1). The host's start must fail instead, naming
    /// the pool size and the minimum.
    /// </summary>
    [Theory]
    [InlineData(1, true, 3)]
    [InlineData(2, true, 3)]
    [InlineData(1, false, 2)]
    public async Task A_worker_host_whose_pool_is_too_small_fails_at_start_naming_the_numbers(int maxPoolSize, bool listen, int minimum)
    {
        var connectionString = new NpgsqlConnectionStringBuilder(fixture.ConnectionString) { MaxPoolSize = maxPoolSize }.ConnectionString;
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddJobs(jobs => jobs
            .UsePostgres(connectionString, o =>
            {
                o.Schema = "jobs_test";
                o.QueueName = "poolsize_" + Guid.NewGuid().ToString("N")[..8];
                o.UseListenNotify = listen;
            })
            .AddJob<ValueJob>((_, _, _) => Task.CompletedTask)
            .AddWorkers(o => o.Concurrency = 16));
        using var host = builder.Build();

        var start = await Record.ExceptionAsync(() => host.StartAsync().WaitAsync(TimeSpan.FromSeconds(60)));

        var error = Assert.IsType<InvalidOperationException>(start);
        Assert.Contains($"Maximum Pool Size is {maxPoolSize}", error.Message, StringComparison.Ordinal);
        Assert.Contains($"at least {minimum}", error.Message, StringComparison.Ordinal);
        await host.StopAsync().WaitAsync(TimeSpan.FromSeconds(60));
    }

    /// <summary>
    /// Two worker hosts in one process on one data source (a shared <see cref="NpgsqlDataSource"/>) keep their connections
    /// for good from the same pool: the second host's start counts the ones the first keeps and fails naming them, instead
    /// of starting on a pool the two exhaust together (before, both started, and pushes and claims then failed with "The
    /// connection pool has been exhausted"). Once the first host is disposed, its connections no longer count.
    /// </summary>
    [Fact]
    public async Task A_second_worker_host_on_the_same_data_source_counts_the_connections_the_first_keeps()
    {
        await using var dataSource = fixture.CreateDataSource(b =>
        {
            b.MaxPoolSize = 3;
            b.Timeout = 5;
        });
        var ran = new Recorder<string>();
        IHost Build(string name)
        {
            var builder = Host.CreateApplicationBuilder();
            builder.Services.AddJobs(jobs => jobs
                .UsePostgres(dataSource, o =>
                {
                    o.Schema = "jobs_test";
                    o.QueueName = "poolshared_" + name + "_" + Guid.NewGuid().ToString("N")[..8];
                    o.PollInterval = TimeSpan.FromMilliseconds(100);
                })
                .AddJob<ValueJob>((_, _, _) =>
                {
                    ran.Add(name);
                    return Task.CompletedTask;
                })
                .AddWorkers(o => o.Concurrency = 2));
            return builder.Build();
        }

        var first = Build("first");
        using var second = Build("second");
        try
        {
            await first.StartAsync().WaitAsync(TimeSpan.FromSeconds(60));

            var start = await Record.ExceptionAsync(() => second.StartAsync().WaitAsync(TimeSpan.FromSeconds(60)));

            Assert.True(start is InvalidOperationException error && error.Message.Contains("Maximum Pool Size is 3", StringComparison.Ordinal)
                && error.Message.Contains("at least 5", StringComparison.Ordinal) && error.Message.Contains("Another host in this process keeps 2", StringComparison.Ordinal),
                $"A second worker host on a data source of Maximum Pool Size 3, whose first host keeps 2 of its connections, started with: {start?.Message ?? "no error"}");
            await second.StopAsync().WaitAsync(TimeSpan.FromSeconds(60));
        }
        finally
        {
            await first.StopAsync().WaitAsync(TimeSpan.FromSeconds(60));
            first.Dispose();
        }

        using var third = Build("third");
        await third.StartAsync().WaitAsync(TimeSpan.FromSeconds(60));
        await third.Services.GetRequiredService<JobQueue>().PushAsync(new ValueJob(1));
        await ran.WaitForCountAsync(1, 60);
        await third.StopAsync().WaitAsync(TimeSpan.FromSeconds(60));
    }

    /// <summary>
    /// Each queue the workers serve keeps a connection for its claims and renewals: a pool big enough for one queue is
    /// too small for three, and the start says so.
    /// </summary>
    [Fact]
    public async Task A_worker_host_serving_several_queues_needs_a_connection_per_queue()
    {
        await using var dataSource = fixture.CreateDataSource(b => b.MaxPoolSize = 3);
        var prefix = "poolqueues_" + Guid.NewGuid().ToString("N")[..8];
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddJobs(jobs => jobs
            .UsePostgres(dataSource, o =>
            {
                o.Schema = "jobs_test";
                o.QueueName = prefix;
            })
            .AddQueue(prefix + "_a", q => q.Concurrency = 2)
            .AddQueue(prefix + "_b", q => q.Concurrency = 2)
            .AddJob<ValueJob>((_, _, _) => Task.CompletedTask)
            .AddWorkers());
        using var host = builder.Build();
        var queues = host.Services.GetRequiredService<JobWorker>().QueueNames.Distinct().Count();
        Assert.True(queues >= 2, $"the worker serves {queues} queue(s)");

        var start = await Record.ExceptionAsync(() => host.StartAsync().WaitAsync(TimeSpan.FromSeconds(60)));

        var error = Assert.IsType<InvalidOperationException>(start);
        Assert.Contains("Maximum Pool Size is 3", error.Message, StringComparison.Ordinal);
        Assert.Contains($"at least {1 + queues + 1}", error.Message, StringComparison.Ordinal);
        await host.StopAsync().WaitAsync(TimeSpan.FromSeconds(60));
    }

    /// <summary>The smallest pool a worker accepts runs every job (Concurrency 16 on 3 connections, LISTEN on).</summary>
    [Fact]
    public async Task A_worker_on_the_smallest_pool_it_accepts_runs_its_jobs()
    {
        await using var dataSource = fixture.CreateDataSource(b => b.MaxPoolSize = 3);
        var ran = new ConcurrentDictionary<int, int>();
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddJobs(jobs => jobs
            .UsePostgres(dataSource, o =>
            {
                o.Schema = "jobs_test";
                o.QueueName = "poolsize_" + Guid.NewGuid().ToString("N")[..8];
                o.PollInterval = TimeSpan.FromMilliseconds(200);
            })
            .AddJob<ValueJob>((job, _, _) =>
            {
                ran.AddOrUpdate(job.Value, 1, (_, n) => n + 1);
                return Task.CompletedTask;
            })
            .AddWorkers(o => o.Concurrency = 16));
        using var host = builder.Build();
        await host.StartAsync().WaitAsync(TimeSpan.FromSeconds(60));
        try
        {
            var queue = host.Services.GetRequiredService<JobQueue>();
            for (var i = 0; i < 40; i++)
            {
                await queue.PushAsync(new ValueJob(i));
            }

            await TestExtensions.EventuallyAsync(() => Task.FromResult(ran.Count == 40), 60, "every job runs");
            Assert.All(ran, r => Assert.Equal(1, r.Value));
        }
        finally
        {
            await host.StopAsync().WaitAsync(TimeSpan.FromSeconds(60));
        }
    }

    /// <summary>A host that only pushes (no workers) keeps nothing open: a pool of one connection is enough for it.</summary>
    [Fact]
    public async Task A_host_without_workers_pushes_through_a_pool_of_one()
    {
        await using var dataSource = fixture.CreateDataSource(b => b.MaxPoolSize = 1);
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddJobs(jobs => jobs
            .UsePostgres(dataSource, o =>
            {
                o.Schema = "jobs_test";
                o.QueueName = "poolsize_" + Guid.NewGuid().ToString("N")[..8];
            })
            .AddJob<ValueJob>((_, _, _) => Task.CompletedTask));
        using var host = builder.Build();
        await host.StartAsync().WaitAsync(TimeSpan.FromSeconds(60));
        try
        {
            var queue = host.Services.GetRequiredService<JobQueue>();
            var id = await queue.PushAsync(new ValueJob(1)).WaitAsync(TimeSpan.FromSeconds(60));
            Assert.Equal(JobState.Pending, (await queue.GetJobAsync(id))?.State);
        }
        finally
        {
            await host.StopAsync().WaitAsync(TimeSpan.FromSeconds(60));
        }
    }

    /// <summary>
    /// Handlers that use the worker's own data source (a transaction of their own, a push inside it) and run longer than
    /// the lease hold every connection the pool has while more handlers wait for one. Before, the worker's lease renewals
    /// waited in the pool's queue behind the handlers and timed out ("Renewing job leases failed: The operation was
    /// canceled"), every handler lost its lease and was cancelled, and the jobs ran again and again until they failed
    /// (5 of 48 done in 2 minutes). Renewals must get through: each job runs once, and its outcome is recorded. Also with
    /// an idle timeout of the held connection far shorter than the handlers run, and free slots whose claims find nothing
    /// all along: a queue with jobs running keeps its connection (it gave it back to the pool, a waiting handler took it,
    /// and the renewals waited behind the handlers again).
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Handlers_holding_every_connection_of_a_shared_pool_do_not_starve_the_lease_renewals(bool shortIdleTimeout)
    {
        const int Jobs = 8;
        var lease = TimeSpan.FromSeconds(10); // a renewal may take 2.5 s (a quarter) on a loaded machine
        // 6 connections: the LISTEN connection, the worker's renewal connection, 4 for the handlers, claims and outcomes.
        await using var dataSource = fixture.CreateDataSource(b =>
        {
            b.MaxPoolSize = 6;
            b.Timeout = 120; // handlers wait for a connection as long as the test runs (the wait is the scenario, not a failure)
        });
        var log = new LevelLog();
        var runs = new ConcurrentDictionary<int, int>();
        var children = new ConcurrentDictionary<int, int>();
        var handlerErrors = new ConcurrentQueue<string>();
        var queueName = "poolshare_" + Guid.NewGuid().ToString("N")[..8];
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.AddProvider(log);
        builder.Services.AddJobs(jobs => jobs
            .UsePostgres(dataSource, o =>
            {
                o.Schema = "jobs_test";
                o.QueueName = queueName;
                o.PollInterval = TimeSpan.FromMilliseconds(200);
                o.Retention = new RetentionPolicy { CompletedJobs = Retain.Yes, FailedJobs = Retain.Yes, CancelledJobs = Retain.Yes };
                if (shortIdleTimeout)
                {
                    o.HeldConnectionIdleTimeout = TimeSpan.FromSeconds(1);
                }
            })
            .AddJob<ValueJob>(async (job, context, ct) =>
            {
                if (job.Value >= 1000)
                {
                    children.AddOrUpdate(job.Value, 1, (_, n) => n + 1);
                    return;
                }

                runs.AddOrUpdate(job.Value, 1, (_, n) => n + 1);
                try
                {
                    await using var connection = await dataSource.OpenConnectionAsync(ct);
                    await using var transaction = await connection.BeginTransactionAsync(ct);
                    await context.Services.GetRequiredService<JobQueue>().PushAsync(new ValueJob(1000 + job.Value), transaction, cancellationToken: ct);
                    // Work that outlasts the lease while it holds its connection: the heartbeat must renew the lease meanwhile.
                    await Task.Delay(lease * 1.5, ct);
                    await transaction.CommitAsync(ct);
                }
                catch (Exception ex)
                {
                    handlerErrors.Enqueue($"job {job.Value}: {ex.GetType().Name}: {ex.Message}");
                    throw;
                }
            })
            .AddWorkers(o =>
            {
                o.Concurrency = shortIdleTimeout ? Jobs + 4 : Jobs; // free slots: claims run (and find nothing) while the handlers run
                o.LeaseDuration = lease;
            }));
        using var host = builder.Build();
        await host.StartAsync().WaitAsync(TimeSpan.FromSeconds(60));
        try
        {
            var queue = host.Services.GetRequiredService<JobQueue>();
            var ids = new List<JobId>();
            for (var i = 0; i < Jobs; i++)
            {
                ids.Add(await queue.PushAsync(new ValueJob(i), new JobOptions { MaxAttempts = 1 }));
            }

            // Every job ends (or the wait gives up: the assertions below then say what happened instead).
            var deadline = DateTime.UtcNow.AddSeconds(180);
            while (DateTime.UtcNow < deadline && !await AllEndedAsync(queue, ids))
            {
                await Task.Delay(200);
            }

            var states = new List<JobState?>();
            foreach (var id in ids)
            {
                states.Add((await queue.GetJobAsync(id))?.State);
            }

            var warnings = string.Join('\n', log.Warnings.Select(w => w.Entry).Where(w => !w.Contains("[1011]", StringComparison.Ordinal)).Take(10));
            Assert.True(states.All(s => s == JobState.Completed),
                $"states: {string.Join(", ", states)}; handler errors: {string.Join("; ", handlerErrors.Take(5))}; warnings:\n{warnings}");
            Assert.True(runs.Count == Jobs && runs.Values.All(n => n == 1), $"runs per job: {string.Join(", ", runs.Select(r => $"{r.Key}x{r.Value}"))}; warnings:\n{warnings}");
            await TestExtensions.EventuallyAsync(() => Task.FromResult(children.Count == Jobs), 60, "every child job pushed in a handler's transaction runs");
            Assert.DoesNotContain(log.Warnings, w => w.Entry.Contains("[1008]", StringComparison.Ordinal) || w.Entry.Contains("[1005]", StringComparison.Ordinal));
        }
        finally
        {
            await host.StopAsync().WaitAsync(TimeSpan.FromSeconds(60));
        }
    }

    private static async Task<bool> AllEndedAsync(JobQueue queue, IEnumerable<JobId> ids)
    {
        foreach (var id in ids)
        {
            if ((await queue.GetJobAsync(id))?.State is not (JobState.Completed or JobState.Failed or JobState.Cancelled))
            {
                return false;
            }
        }

        return true;
    }
}
