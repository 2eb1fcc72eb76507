using System.Collections.Concurrent;
using System.Diagnostics;
using Npgsql;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// A worker host that pushes to hundreds of queues (a queue per tenant, <see cref="JobOptions.Queue"/>): its one listening
/// connection must LISTEN on each new queue's channel once, not reconnect and LISTEN on every channel again, one round trip
/// each, for every queue added (quadratic in the number of queues).
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class ListenerManyQueuesTests(PostgresFixture fixture)
{
    private const int Queues = 300;

    [Fact]
    public async Task Pushing_to_300_new_queues_listens_on_each_channel_about_once()
    {
        // Every LISTEN the host's data source sends, with the server process of its connection.
        var listens = new ConcurrentQueue<(int Pid, string Sql)>();
        var channels = new ConcurrentDictionary<int, ConcurrentDictionary<string, bool>>();
        var allListened = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var expected = Queues + 1;
        void Record(NpgsqlConnection? connection, string sql)
        {
            if (!sql.StartsWith("LISTEN ", StringComparison.Ordinal))
            {
                return;
            }

            var pid = connection?.ProcessID ?? 0;
            listens.Enqueue((pid, sql));
            var onConnection = channels.GetOrAdd(pid, _ => new(StringComparer.Ordinal));
            onConnection[sql] = true;
            if (onConnection.Count >= expected)
            {
                allListened.TrySetResult();
            }
        }

        using var tracing = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "Npgsql",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.None,
        };
        ActivitySource.AddActivityListener(tracing);
        var builder = new NpgsqlSlimDataSourceBuilder(fixture.ConnectionString);
        builder.EnableArrays();
        builder.ConfigureTracing(t => t
            .ConfigureCommandFilter(command =>
            {
                Record(command.Connection, command.CommandText);
                return false;
            })
            .ConfigureBatchFilter(batch =>
            {
                foreach (var command in batch.BatchCommands)
                {
                    Record(batch.Connection, command.CommandText);
                }

                return false;
            }));
        await using var traced = builder.Build();
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>((_, _, _) => Task.CompletedTask), dataSource: traced);
        await q.StartAsync();

        var tenant = "tenant_" + Guid.NewGuid().ToString("N")[..6] + "_";
        for (var i = 0; i < Queues; i++)
        {
            await q.Queue.PushAsync(new ValueJob(i), new JobOptions { Queue = tenant + i });
        }

        // One listening connection hears the worker's queue and every tenant queue.
        await allListened.Task.WaitAsync(TimeSpan.FromSeconds(120));
        var sent = listens.Count;
        Assert.True(sent <= 2 * expected,
            $"The listener sent {sent:N0} LISTEN statements on {channels.Count} connections for {expected} channels (at most {2 * expected} expected).");
    }
}
