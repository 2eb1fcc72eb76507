using Npgsql;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// A worker cut off from PostgreSQL by a stalled network (a TCP proxy that holds every byte) must stop its handlers
/// before another worker can take its jobs over: handlers that honour their token never overlap with the next run.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class PartitionTests(PostgresFixture fixture)
{
    [Fact]
    public Task Partitioned_worker_never_overlaps_with_the_takeover_with_a_3_second_lease() => NoOverlapAsync(TimeSpan.FromSeconds(3));

    [Fact]
    public Task Partitioned_worker_never_overlaps_with_the_takeover_with_a_30_second_lease() => NoOverlapAsync(TimeSpan.FromSeconds(30));

    private async Task NoOverlapAsync(TimeSpan lease)
    {
        var connection = new NpgsqlConnectionStringBuilder(fixture.ConnectionString);
        await using var proxy = TcpProxy.Start(connection.Host!, connection.Port);
        var log = "partition_log_" + Guid.NewGuid().ToString("N")[..8];
        await using var direct = fixture.CreateDataSource();
        await direct.ExecAsync($"CREATE TABLE public.{log} (worker text NOT NULL, started timestamptz NOT NULL, ended timestamptz)");
        var queueName = "partition_" + Guid.NewGuid().ToString("N")[..8];
        var startedOnA = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var startedOnB = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        // The handler records its own interval over a direct connection (never through the proxy) and honours its token.
        Func<string, TaskCompletionSource, Action<JobsBuilder>> handler = (worker, started) => b => b.AddJob<ValueJob>(async (_, _, ct) =>
        {
            var start = DateTimeOffset.UtcNow;
            await using (var insert = direct.CreateCommand($"INSERT INTO public.{log} (worker, started) VALUES ($1, $2)"))
            {
                insert.Parameters.Add(new NpgsqlParameter { Value = worker });
                insert.Parameters.Add(new NpgsqlParameter { Value = start });
                await insert.ExecuteNonQueryAsync(CancellationToken.None);
            }

            started.TrySetResult();
            try
            {
                if (worker == "A")
                {
                    await Task.Delay(Timeout.Infinite, ct);
                }
            }
            finally
            {
                var end = DateTimeOffset.UtcNow;
                await using var update = direct.CreateCommand($"UPDATE public.{log} SET ended = $2 WHERE worker = $1");
                update.Parameters.Add(new NpgsqlParameter { Value = worker });
                update.Parameters.Add(new NpgsqlParameter { Value = end });
                await update.ExecuteNonQueryAsync(CancellationToken.None);
            }
        });

        await using var a = await TestQueue.CreateAsync(fixture, handler("A", startedOnA), queueName: queueName,
            worker: o =>
            {
                o.Concurrency = 1;
                o.LeaseDuration = lease;
                o.RescueInterval = TimeSpan.FromHours(1);
                o.ShutdownTimeout = TimeSpan.Zero;
            },
            dataSource: fixture.CreateDataSource(b =>
            {
                b.Host = "127.0.0.1";
                b.Port = proxy.Port;
            }));
        await using var b = await TestQueue.CreateAsync(fixture, handler("B", startedOnB), queueName: queueName,
            worker: o =>
            {
                o.Concurrency = 1;
                o.LeaseDuration = lease;
                o.RescueInterval = TimeSpan.FromMilliseconds(200);
            });
        await a.Queue.PushAsync(new ValueJob(1));
        await a.StartAsync();
        await startedOnA.Task.WaitAsync(TimeSpan.FromSeconds(30));

        proxy.Stall();
        await b.StartAsync();
        await startedOnB.Task.WaitAsync(lease * 2 + TimeSpan.FromSeconds(30));

        // A's handler must have ended (its token cancelled by the lease watchdog) before B started the job.
        await TestExtensions.EventuallyAsync(async () => await direct.ScalarAsync($"SELECT count(*) FROM public.{log} WHERE ended IS NOT NULL") == 2,
            seconds: 90, what: "both handlers ended");
        var overlapMs = await direct.ScalarAsync(
            $"SELECT coalesce(extract(epoch FROM (a.ended - b.started)) * 1000, 0)::bigint FROM public.{log} a, public.{log} b WHERE a.worker = 'A' AND b.worker = 'B'");
        Assert.True(overlapMs < 0, $"Worker A still ran the job {overlapMs} ms after worker B had started it.");

        proxy.Resume();
        await b.StopAsync();
        await a.StopAsync();
        await direct.ExecAsync($"DROP TABLE public.{log}");
    }
}
