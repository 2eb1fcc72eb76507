using System.Collections.Concurrent;
using Jobs.Sdk.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// A failover behind one host name (an RDS/Aurora cluster endpoint, a Kubernetes service, a virtual IP): the name moves to
/// the new primary, but the pool's open connections stay on the old server, which (as Aurora's old writer does) stays up
/// read-only. Writes on those connections fail with 25006 for as long as the pool keeps them; the driver clears the pool
/// so that new connections reach the new primary. A TCP proxy plays the name: its new connections go to the new primary.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class VipFailoverTests(PostgresFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public async Task After_a_failover_behind_one_host_name_jobs_pushed_on_the_new_primary_run_once()
    {
        await using var oldPrimary = await LocalPostgresCluster.StartAsync();
        await using var newPrimary = await LocalPostgresCluster.StartAsync();
        await using var onOld = PostgresJobsBuilderExtensions.CreateDataSource(oldPrimary.ConnectionString);
        await using var name = TcpProxy.Start("127.0.0.1", oldPrimary.Port);
        var viaName = $"Host=127.0.0.1;Port={name.Port};Username=postgres;Database=postgres;Timeout=10;Maximum Pool Size=20;Application Name=vip-worker";
        var logs = new LevelLog();
        var runs = new ConcurrentDictionary<int, int>();
        await using var setup = await TestQueue.CreateAsync(fixture, b => b
                .AddJob<ValueJob>((job, _, _) =>
                {
                    runs.AddOrUpdate(job.Value, 1, (_, n) => n + 1);
                    return Task.CompletedTask;
                })
                .Services.AddLogging(l => l.AddProvider(logs)),
            worker: o => o.Concurrency = 4,
            dataSource: PostgresJobsBuilderExtensions.CreateDataSource(viaName));
        // The new primary holds the same schema (as a promoted replica would); a client of its own pushes there.
        await using var onNew = await TestQueue.CreateAsync(fixture, _ => { }, queueName: setup.Queue.QueueName,
            dataSource: PostgresJobsBuilderExtensions.CreateDataSource(newPrimary.ConnectionString));
        await setup.StartAsync();

        // Work before the failover fills the pool with connections to the old primary.
        await setup.Queue.PushManyAsync(Enumerable.Range(0, 40).Select(i => new ValueJob(i)));
        await TestExtensions.EventuallyAsync(() => Task.FromResult(Enumerable.Range(0, 40).All(runs.ContainsKey)), seconds: 60, what: "the jobs pushed before the failover ran");

        // The failover: the old primary turns read-only (its open sessions too), the name moves to the new primary.
        await ReadOnlyServerTests.SetReadOnlyAsync(onOld, true);
        // The name moves only after the worker met the refusal and cleared its pool (a DNS record lags the demotion): the
        // listener's first reconnect lands on the old server again, and must not stay there.
        await TestExtensions.EventuallyAsync(() => Task.FromResult(logs.Warnings.Any(w => w.Entry.Contains("[2015]", StringComparison.Ordinal))),
            seconds: 60, what: "the worker cleared its pool after a refused write");
        name.Retarget("127.0.0.1", newPrimary.Port);
        var accepted = name.ConnectionsAccepted;

        var after = await onNew.Queue.PushManyAsync(Enumerable.Range(100, 20).Select(i => new ValueJob(i)));
        try
        {
            await TestExtensions.EventuallyAsync(() => Task.FromResult(Enumerable.Range(100, 20).All(runs.ContainsKey)), seconds: 60,
                what: "the jobs pushed on the new primary ran");
        }
        finally
        {
            output.WriteLine($"connections through the name after the failover: {name.ConnectionsAccepted - accepted}");
            foreach (var (at, entry) in logs.Warnings.Take(20))
            {
                output.WriteLine($"{at:HH:mm:ss.fff} {entry}");
            }
        }

        // The listening connection moved too: notifications of pushes on the new primary reach the workers (without it they
        // would wait for their next poll, up to PollInterval).
        await TestExtensions.EventuallyAsync(async () => await ListenersAsync(onNew.DataSource) > 0, seconds: 60,
            what: "the worker's LISTEN connection is on the new primary");

        await setup.StopAsync();
        Assert.Equal(20, after.Count);
        Assert.All(runs, run => Assert.Equal(1, run.Value));
        Assert.Contains(logs.Warnings, w => w.Entry.Contains("[2015]", StringComparison.Ordinal)); // the pool clear, logged
        Assert.Empty(logs.Errors);
    }

    private static async Task<long> ListenersAsync(Npgsql.NpgsqlDataSource server)
    {
        await using var count = server.CreateCommand("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'vip-worker' AND query LIKE 'LISTEN %'");
        return (long)(await count.ExecuteScalarAsync())!;
    }
}
