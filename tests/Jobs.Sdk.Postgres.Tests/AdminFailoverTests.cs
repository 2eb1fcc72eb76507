using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Xunit.Abstractions;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// A failover behind one host name (see <see cref="VipFailoverTests"/>) seen from a process that only operates the queue:
/// a dashboard or an admin tool, with no worker and no pusher whose writes would clear the pool. Its pooled connections
/// stay on the old server, which stays up read-only; an operator's action must reach the new primary.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class AdminFailoverTests(PostgresFixture fixture, ITestOutputHelper output)
{
    public enum AdminKind
    {
        /// <summary><c>JobAdmin</c> from a host's services (<c>UsePostgres</c>: the dashboard's).</summary>
        Host,

        /// <summary><c>PostgresJobAdmin.Create</c> (tools and scripts).</summary>
        Standalone,
    }

    [Theory]
    [InlineData(AdminKind.Host)]
    [InlineData(AdminKind.Standalone)]
    public async Task An_operators_action_after_a_failover_behind_one_host_name_reaches_the_new_primary(AdminKind kind)
    {
        await using var oldPrimary = await LocalPostgresCluster.StartAsync();
        await using var newPrimary = await LocalPostgresCluster.StartAsync();
        await using var onOld = PostgresJobsBuilderExtensions.CreateDataSource(oldPrimary.ConnectionString);
        await using var name = TcpProxy.Start("127.0.0.1", oldPrimary.Port);
        var viaName = $"Host=127.0.0.1;Port={name.Port};Username=postgres;Database=postgres;Timeout=10;Maximum Pool Size=5";
        // Both servers hold the schema (the new primary as a promoted replica would); the queue is known on both.
        await using var onNew = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>((_, _, _) => Task.CompletedTask),
            dataSource: PostgresJobsBuilderExtensions.CreateDataSource(newPrimary.ConnectionString));
        var queue = onNew.Queue.QueueName;
        await using var onOldQueue = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>((_, _, _) => Task.CompletedTask),
            queueName: queue, dataSource: PostgresJobsBuilderExtensions.CreateDataSource(oldPrimary.ConnectionString));
        await onNew.Queue.PushAsync(new ValueJob(1));
        await onOldQueue.Queue.PushAsync(new ValueJob(1));

        // The operating process: no worker is started, so nothing but the admin uses its pool.
        await using var operating = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>((_, _, _) => Task.CompletedTask),
            queueName: queue, dataSource: PostgresJobsBuilderExtensions.CreateDataSource(viaName));
        await using var standaloneSource = PostgresJobsBuilderExtensions.CreateDataSource(viaName);
        var admin = kind == AdminKind.Host
            ? operating.Services.GetRequiredService<JobAdmin>()
            : PostgresJobAdmin.Create(standaloneSource, new PostgresJobDriverOptions { Schema = "jobs_test" });

        // Operating before the failover fills the pool with connections to the old primary.
        for (var i = 0; i < 3; i++)
        {
            Assert.Contains(await admin.GetQueuesAsync(), q => q.Name == queue);
        }

        await ReadOnlyServerTests.SetReadOnlyAsync(onOld, true);
        name.Retarget("127.0.0.1", newPrimary.Port);

        Exception? refused = null;
        try
        {
            await admin.PauseQueueAsync(queue, reason: "after the failover");
        }
        catch (PostgresException e)
        {
            refused = e;
        }

        output.WriteLine($"the first pause after the failover: {refused?.Message ?? "done"}");
        // A refused write changed nothing, so the store may try it again on a fresh connection: the operator's action
        // goes through (on the main code it failed, and so did every later try while the pool kept the old connection).
        Assert.Null(refused);
        Assert.True(await PausedAsync(onNew.DataSource, queue), "the queue is paused on the new primary");
        Assert.True(await admin.ResumeQueueAsync(queue));
        Assert.False(await PausedAsync(onNew.DataSource, queue), "the queue is resumed on the new primary");
    }

    [Fact]
    public async Task The_queue_overview_reads_on_a_read_only_server_with_counts_to_compact()
    {
        await using var server = await LocalPostgresCluster.StartAsync();
        await using var setup = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>((_, _, _) => Task.CompletedTask),
            dataSource: PostgresJobsBuilderExtensions.CreateDataSource(server.ConnectionString));
        // One count delta row per push statement: more than a read compacts (CountSql.CompactAfter).
        for (var i = 0; i <= 256; i++)
        {
            await setup.Queue.PushAsync(new ValueJob(i));
        }

        var admin = setup.Services.GetRequiredService<JobAdmin>();
        await ReadOnlyServerTests.SetReadOnlyAsync(setup.DataSource, true);
        // A standby, or an old primary left read-only: the overview's compaction is refused, its reads are still right
        // (on the main code: PostgresException 25006 "cannot execute DELETE in a read-only transaction").
        Assert.Equal(257, (await setup.Queue.GetCountsAsync()).Pending); // the driver's counts (the gauge, the health check)
        var queue = Assert.Single(await admin.GetQueuesAsync(), q => q.Name == setup.Queue.QueueName);
        Assert.Equal(257, queue.Counts.Pending);
    }

    private static async Task<bool> PausedAsync(NpgsqlDataSource server, string queue)
    {
        await using var command = server.CreateCommand("SELECT coalesce((SELECT paused FROM jobs_test.queues WHERE name = $1), false)");
        command.Parameters.Add(new NpgsqlParameter { Value = queue });
        return (bool)(await command.ExecuteScalarAsync())!;
    }
}
