using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// A worker host serving many queues: the connection each queue keeps for its claims and lease renewals goes back to the
/// pool once the queue is idle, so an idle host holds about what its polls need instead of one server connection per queue.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class IdleQueueConnectionTests(PostgresFixture fixture)
{
    private const int AddedQueues = 10;

    /// <summary>
    /// Eleven queues (the default one and ten added) in one generic host, every queue idle after one job each. Before, each
    /// queue kept its claim-and-renewal connection for good: the host held 12 server connections (11 and LISTEN) while
    /// nothing ran, 10 queues × 10 pods = 100 idle connections, a default max_connections. The held connections must go
    /// back to the pool (which closes them, its idle lifetime short here), and the queues must claim again afterwards.
    /// </summary>
    [Fact]
    public async Task Idle_queues_give_their_held_connections_back_and_claim_again()
    {
        var app = "idleconn_" + Guid.NewGuid().ToString("N")[..8];
        await using var dataSource = fixture.CreateDataSource(b =>
        {
            b.ApplicationName = app; // counted in pg_stat_activity
            b.MaxPoolSize = 40;
            b.ConnectionIdleLifetime = 2; // the pool closes what it no longer uses within seconds (300 s by default)
            b.ConnectionPruningInterval = 1;
        });
        await using var observer = fixture.CreateDataSource();
        var prefix = "idleconn_" + Guid.NewGuid().ToString("N")[..8];
        var ran = new ConcurrentDictionary<int, int>();
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddJobs(jobs =>
        {
            jobs.UsePostgres(dataSource, o =>
            {
                o.Schema = "jobs_test";
                o.QueueName = prefix;
                o.PollInterval = TimeSpan.FromMilliseconds(200);
                o.HeldConnectionIdleTimeout = TimeSpan.FromSeconds(1);
            });
            for (var i = 0; i < AddedQueues; i++)
            {
                jobs.AddQueue(QueueName(prefix, i), q => q.Concurrency = 2);
            }

            jobs.AddJob<ValueJob>((job, _, _) =>
            {
                ran.AddOrUpdate(job.Value, 1, (_, n) => n + 1);
                return Task.CompletedTask;
            })
            .AddWorkers(o => o.LeaseDuration = TimeSpan.FromSeconds(2)); // idle means a whole lease without work too
        });
        using var host = builder.Build();
        await host.StartAsync().WaitAsync(TimeSpan.FromSeconds(60));
        try
        {
            var queues = host.Services.GetRequiredService<JobWorker>().QueueNames.Distinct().Count();
            Assert.Equal(AddedQueues + 1, queues);
            var queue = host.Services.GetRequiredService<JobQueue>();

            // Every queue claims a job (and so opens its held connection), then nothing more is pushed.
            await PushOneJobPerQueueAsync(queue, prefix, 0);
            await TestExtensions.EventuallyAsync(() => Task.FromResult(ran.Count == AddedQueues + 1), 60, "every queue's first job runs");

            // Idle: at most LISTEN and a few polls of the moment, far fewer than one connection per queue.
            var limit = 1 + queues / 2;
            await ServerConnections.EventuallyAsync(observer, app, n => n <= limit, $"the idle host holds at most {limit} server connections");

            // An idle queue claims again: it takes a connection at its next claim, and its jobs run.
            await PushOneJobPerQueueAsync(queue, prefix, 100);
            await TestExtensions.EventuallyAsync(() => Task.FromResult(ran.Count == 2 * (AddedQueues + 1)), 60, "every queue's second job runs");
            Assert.All(ran, r => Assert.Equal(1, r.Value));
        }
        finally
        {
            await host.StopAsync().WaitAsync(TimeSpan.FromSeconds(60));
        }
    }

    private static string QueueName(string prefix, int i) => i < 0 ? prefix : prefix + "_" + i;

    private static async Task PushOneJobPerQueueAsync(JobQueue queue, string prefix, int offset)
    {
        for (var i = -1; i < AddedQueues; i++)
        {
            await queue.PushAsync(new ValueJob(offset + i + 1), new JobOptions { Queue = QueueName(prefix, i) });
        }
    }
}
