using Npgsql;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// Wake-ups (issue 15): pushes outside a caller's transaction commit without a NOTIFY and are announced right after by
/// one coalesced NOTIFY per queue; pushes in a caller's transaction notify in it. Every test's worker polls once an hour,
/// so only a notification can wake it within the test's timeout.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class NotificationTests(PostgresFixture fixture)
{
    private static readonly TimeSpan Hour = TimeSpan.FromHours(1);

    [Fact]
    public async Task Concurrent_single_pushes_from_another_node_all_wake_an_idle_worker()
    {
        var seen = new Recorder<int>();
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>((job, _, _) => { seen.Add(job.Value); return Task.CompletedTask; }),
            driver: o => o.PollInterval = Hour);
        await using var pusher = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>((_, _, _) => Task.CompletedTask), queueName: q.Queue.QueueName,
            driver: o => o.PollInterval = Hour);
        await q.StartAsync();
        await q.Driver.WaitForWorkAsync(new CancellationTokenSource(TimeSpan.FromSeconds(1)).Token); // the listener is up

        // Bursts of concurrent pushes (announcements coalesce while one is in flight), then single ones: none is missed.
        for (var round = 0; round < 5; round++)
        {
            await Task.WhenAll(Enumerable.Range(0, 16).Select(i => pusher.Queue.PushAsync(new ValueJob(round * 100 + i))));
            await seen.WaitForCountAsync((round + 1) * 16, seconds: 15);
        }

        await pusher.Queue.PushManyAsync(Enumerable.Range(1000, 10).Select(i => new ValueJob(i)));
        await seen.WaitForCountAsync(90, seconds: 15);
        Assert.Equal(90, seen.Items.Distinct().Count());
    }

    [Fact]
    public async Task A_delayed_push_is_announced_with_its_due_time()
    {
        var ran = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>((_, _, _) => { ran.TrySetResult(); return Task.CompletedTask; }),
            driver: o => o.PollInterval = Hour);
        await using var pusher = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>((_, _, _) => Task.CompletedTask), queueName: q.Queue.QueueName,
            driver: o => o.PollInterval = Hour);
        await q.StartAsync();
        await q.Driver.WaitForWorkAsync(new CancellationTokenSource(TimeSpan.FromSeconds(1)).Token);

        await pusher.Queue.PushAsync(new ValueJob(1), new JobOptions { DelayUntil = DateTimeOffset.UtcNow.AddSeconds(1) });
        await ran.Task.WaitAsync(TimeSpan.FromSeconds(15));
    }

    [Fact]
    public async Task A_push_in_the_callers_transaction_wakes_workers_when_it_commits_and_not_before()
    {
        var ran = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>((_, _, _) => { ran.TrySetResult(); return Task.CompletedTask; }),
            driver: o => o.PollInterval = Hour);
        await q.StartAsync();
        await q.Driver.WaitForWorkAsync(new CancellationTokenSource(TimeSpan.FromSeconds(1)).Token);

        await using var dataSource = fixture.CreateDataSource();
        await using var connection = await dataSource.OpenConnectionAsync();
        await using (var listener = await dataSource.OpenConnectionAsync())
        {
            var notified = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            listener.Notification += (_, _) => notified.TrySetResult();
            await using (var listen = new NpgsqlCommand($"LISTEN \"{PostgresNotifier.ChannelName("jobs_test", q.Queue.QueueName)}\"", listener))
            {
                await listen.ExecuteNonQueryAsync();
            }

            await using var tx = await connection.BeginTransactionAsync();
            await q.Queue.PushAsync(new ValueJob(1), tx);
            // Nothing is delivered while the transaction is open (a round trip on the listener reads anything pending).
            await using (var ping = new NpgsqlCommand("SELECT 1", listener))
            {
                await ping.ExecuteNonQueryAsync();
            }

            Assert.False(notified.Task.IsCompleted);
            Assert.False(ran.Task.IsCompleted);
            await tx.CommitAsync();
            await listener.WaitAsync(TimeSpan.FromSeconds(15));
            await notified.Task.WaitAsync(TimeSpan.FromSeconds(15));
        }

        await ran.Task.WaitAsync(TimeSpan.FromSeconds(15));
    }
}
