namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// <c>PushManyAsync</c> of unique jobs keeps the promise of every push: all or nothing. A unique push waits for a
/// concurrent transaction that inserted a job of the same key (the unique index); the test holds such a transaction open
/// to stop the batch on its second job, and cancels it there.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class UniqueBatchTests(PostgresFixture fixture)
{
    private const string WaitingOnTransaction = "SELECT count(*) FROM pg_locks WHERE locktype = 'transactionid' AND NOT granted";

    [Fact]
    public async Task A_unique_batch_cancelled_on_its_second_job_stores_none_of_it()
    {
        await using var q = await TestQueue.CreateAsync(fixture, jobs => jobs.AddJob<UniqueAccountJob>((_, _, _) => Task.CompletedTask));
        await using var direct = fixture.CreateDataSource();
        var (first, held, third) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());

        // Another transaction inserted a job of the second key and has not committed yet: the batch waits there.
        await using var connection = await direct.OpenConnectionAsync();
        await using var holder = await connection.BeginTransactionAsync();
        await q.Queue.PushAsync(new UniqueAccountJob(held, 0), holder);

        using var cts = new CancellationTokenSource();
        var push = q.Queue.PushManyAsync([new UniqueAccountJob(first, 1), new UniqueAccountJob(held, 2), new UniqueAccountJob(third, 3)], cancellationToken: cts.Token);
        await TestExtensions.EventuallyAsync(async () => await direct.ScalarAsync(WaitingOnTransaction) > 0, what: "the batch waits for the second key");
        await cts.CancelAsync();
        var thrown = await Record.ExceptionAsync(() => push.WaitAsync(TimeSpan.FromMinutes(1)));
        await holder.RollbackAsync();

        Assert.IsAssignableFrom<OperationCanceledException>(thrown);
        var stored = await direct.ScalarAsync($"SELECT count(*) FROM jobs_test.jobs WHERE queue_name = '{q.Driver.QueueName}'");
        Assert.True(stored == 0, $"PushManyAsync threw {thrown!.GetType().Name}, yet {stored} job(s) of the batch are stored.");

        // Pushed again, the batch stores all three.
        var ids = await q.Queue.PushManyAsync([new UniqueAccountJob(first, 1), new UniqueAccountJob(held, 2), new UniqueAccountJob(third, 3)]);
        Assert.Equal(3, ids.Distinct().Count());
        Assert.Equal(3, (await q.Queue.GetCountsAsync()).Pending);
    }

    [Fact]
    public async Task Concurrent_unique_batches_of_the_same_keys_in_opposite_orders_store_one_job_per_key_and_report_it()
    {
        await using var q = await TestQueue.CreateAsync(fixture, jobs => jobs.AddJob<UniqueAccountJob>((_, _, _) => Task.CompletedTask));
        var accounts = Enumerable.Range(0, 40).Select(_ => Guid.NewGuid()).ToArray();
        for (var round = 0; round < 5; round++)
        {
            var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var forward = Task.Run(async () =>
            {
                await start.Task;
                return await q.Queue.PushManyAsync(accounts.Select(a => new UniqueAccountJob(a, round)));
            });
            var backward = Task.Run(async () =>
            {
                await start.Task;
                return await q.Queue.PushManyAsync(accounts.Reverse().Select(a => new UniqueAccountJob(a, round)));
            });
            start.SetResult();
            var results = await Task.WhenAll(forward, backward).WaitAsync(TimeSpan.FromMinutes(1));

            // Both batches name the same job for each key, and that job is the one stored.
            Assert.Equal(results[0], results[1].Reverse());
            Assert.Equal(accounts.Length * (round + 1), (await q.Queue.GetCountsAsync()).Pending);
            accounts = Enumerable.Range(0, 40).Select(_ => Guid.NewGuid()).ToArray();
        }
    }

    [Fact]
    public async Task A_unique_batch_with_a_key_twice_stores_it_once_and_names_the_first_job_for_both()
    {
        await using var q = await TestQueue.CreateAsync(fixture, jobs => jobs.AddJob<UniqueAccountJob>((_, _, _) => Task.CompletedTask));
        var (a, b) = (Guid.NewGuid(), Guid.NewGuid());
        var existing = await q.Queue.PushAsync(new UniqueAccountJob(b, 0));

        var ids = await q.Queue.PushManyAsync([new UniqueAccountJob(a, 1), new UniqueAccountJob(b, 2), new UniqueAccountJob(a, 3)]);

        Assert.Equal(ids[0], ids[2]);
        Assert.Equal(existing, ids[1]);
        Assert.Equal(2, (await q.Queue.GetCountsAsync()).Pending);
        Assert.Contains("\"n\": 1", (await q.Queue.GetJobAsync(ids[0]))!.Payload, StringComparison.Ordinal);

        // TryPushManyAsync tells which were inserted: a new key, and the three held ones (by the jobs above).
        var c = Guid.NewGuid();
        var results = await q.Queue.TryPushManyAsync([new UniqueAccountJob(c, 5), new UniqueAccountJob(a, 6), new UniqueAccountJob(b, 7), new UniqueAccountJob(c, 8)]);
        Assert.Equal([true, false, false, false], results.Select(r => r.Inserted));
        Assert.Equal([results[0].Id, ids[0], existing, results[0].Id], results.Select(r => r.Id));
        Assert.Equal(3, (await q.Queue.GetCountsAsync()).Pending);
    }

    [Fact]
    public async Task A_unique_batch_in_the_callers_transaction_exists_only_if_the_caller_commits()
    {
        await using var q = await TestQueue.CreateAsync(fixture, jobs => jobs.AddJob<UniqueAccountJob>((_, _, _) => Task.CompletedTask));
        await using var direct = fixture.CreateDataSource();
        var accounts = new[] { Guid.NewGuid(), Guid.NewGuid() };
        await using var connection = await direct.OpenConnectionAsync();

        await using (var rolledBack = await connection.BeginTransactionAsync())
        {
            var ids = await q.Queue.PushManyAsync(accounts.Select(a => new UniqueAccountJob(a, 1)), rolledBack);
            Assert.Equal(2, ids.Distinct().Count());
            await rolledBack.RollbackAsync();
        }

        Assert.Equal(0, (await q.Queue.GetCountsAsync()).Pending);
        await using (var committed = await connection.BeginTransactionAsync())
        {
            var ids = await q.Queue.PushManyAsync([new UniqueAccountJob(accounts[0], 2), new UniqueAccountJob(accounts[0], 3), new UniqueAccountJob(accounts[1], 4)], committed);
            Assert.Equal(ids[0], ids[1]);
            await committed.CommitAsync();
        }

        Assert.Equal(2, (await q.Queue.GetCountsAsync()).Pending);
    }
}
