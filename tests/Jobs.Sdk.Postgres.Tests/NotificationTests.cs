using Npgsql;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// Wake-ups (issue 15): pushes outside a caller's transaction commit without a NOTIFY and are announced right after by
/// one coalesced NOTIFY per queue (a push with nothing in flight carries its own, in its round trip, after its commit);
/// pushes in a caller's transaction notify in it. Every test's worker polls once an hour, so only a notification can
/// wake it within the test's timeout.
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
        await q.ListeningAsync();

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
        await q.ListeningAsync();

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
        await q.ListeningAsync();

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

    [Fact]
    public async Task A_lone_push_carries_its_notify_in_its_own_round_trip_after_its_commit()
    {
        await using var sent = new SentBatches(fixture);
        await using var pusher = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>((_, _, _) => Task.CompletedTask), dataSource: sent.DataSource,
            driver: o => o.PollInterval = Hour);

        await using var dataSource = fixture.CreateDataSource();
        await using var listener = await dataSource.OpenConnectionAsync();
        var notified = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        listener.Notification += (_, _) => notified.TrySetResult();
        await using (var listen = new NpgsqlCommand($"LISTEN \"{PostgresNotifier.ChannelName("jobs_test", pusher.Queue.QueueName)}\"", listener))
        {
            await listen.ExecuteNonQueryAsync();
        }

        sent.Batches.Clear();
        await pusher.Queue.PushAsync(new ValueJob(1));
        var batches = sent.Batches.Select(b => string.Join(";\n", b)).ToArray();

        // The announcement (its asynchronous commit setting, then the NOTIFY) went in the push's own batch, behind the
        // insert: no announcement round trip follows the push...
        var push = Assert.Single(batches, b => b.Contains("INSERT INTO", StringComparison.Ordinal));
        var announcement = push.IndexOf(JobSql.AsynchronousCommit, StringComparison.Ordinal);
        Assert.True(announcement > push.IndexOf("INSERT INTO", StringComparison.Ordinal), push);
        Assert.Contains("pg_notify", push[announcement..], StringComparison.Ordinal);
        // ...and the notification was committed before PushAsync returned (a round trip on the listener reads it).
        await using (var ping = new NpgsqlCommand("SELECT 1", listener))
        {
            await ping.ExecuteNonQueryAsync();
        }

        Assert.True(notified.Task.IsCompleted);
        Assert.DoesNotContain(sent.Batches.Select(b => string.Join(";\n", b)), b => b != push && b.Contains("pg_notify", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Commands_after_an_error_barrier_run_as_a_second_transaction_once_the_first_committed_durably()
    {
        // What a push's ride relies on: the insert commits on its own, with the session's synchronous_commit (durable),
        // before the announcement's transaction (asynchronous commit) starts; a failure there leaves the insert committed.
        // Sessions start with synchronous_commit on whatever the server default (test clusters turn it off).
        await using var dataSource = fixture.CreateDataSource(c => c.Options = "-c synchronous_commit=on");
        var table = "public.ride_" + Guid.NewGuid().ToString("N")[..8];
        await using (var create = dataSource.CreateCommand($"CREATE TABLE {table} (n int, xid bigint, sync text)"))
        {
            await create.ExecuteNonQueryAsync();
        }

        var record = $"INSERT INTO {table} SELECT $1, pg_current_xact_id()::text::bigint, current_setting('synchronous_commit')";
        var preparation = new PostgresPreparation(dataSource);
        Assert.True(await preparation.ProbeAsync(CancellationToken.None), "a direct connection is found direct");
        var commands = new PostgresCommands(dataSource, fastWorkerCommits: false, preparation);
        await commands.ExecuteThenAsync(null, record, [SqlParameters.Integer(1)], SqlRun.Prepare,
            [new NpgsqlBatchCommand(JobSql.AsynchronousCommit), PostgresCommands.Command(record, SqlParameters.Integer(2))], CancellationToken.None);
        var failing = await commands.ExecuteThenAsync(null, record, [SqlParameters.Integer(3)], SqlRun.None, [new NpgsqlBatchCommand("SELECT 1 / 0")],
            CancellationToken.None);
        Assert.Equal(PostgresErrorCodes.DivisionByZero, failing?.SqlState);
        var failed = await Assert.ThrowsAsync<PostgresException>(() => commands.ExecuteThenAsync(null, record.Replace("$1", "$1 / 0", StringComparison.Ordinal),
            [SqlParameters.Integer(4)], SqlRun.None, [new NpgsqlBatchCommand("SELECT 1")], CancellationToken.None));
        Assert.Equal(PostgresErrorCodes.DivisionByZero, failed.SqlState);

        var rows = new List<(int N, long Xid, string Sync)>();
        await using (var read = dataSource.CreateCommand($"SELECT n, xid, sync FROM {table} ORDER BY n"))
        await using (var reader = await read.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                rows.Add((reader.GetInt32(0), reader.GetInt64(1), reader.GetString(2)));
            }
        }

        Assert.Equal(new[] { 1, 2, 3 }, rows.Select(r => r.N));
        Assert.Equal("on", rows[0].Sync);
        Assert.Equal("off", rows[1].Sync);
        Assert.True(rows[0].Xid < rows[1].Xid, "the second transaction started after the first");
        Assert.Equal("on", rows[2].Sync); // committed although the command after it failed
    }
}
