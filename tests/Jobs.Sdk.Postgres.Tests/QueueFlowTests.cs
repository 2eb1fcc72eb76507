using System.Collections.Concurrent;
using Jobs.Sdk.Drivers;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>Issue 16 on real PostgreSQL: many queues in one process, queue pause isolation, unique jobs under concurrency.</summary>
[Collection(PostgresCollection.Name)]
public sealed class QueueFlowTests(PostgresFixture fixture)
{
    [Fact]
    public async Task Without_notifications_a_paused_queue_releases_claimed_jobs_that_have_not_started()
    {
        var started = new Recorder<int>();
        var finish = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var q = await TestQueue.CreateAsync(fixture,
            jobs => jobs.AddJob<ValueJob>(async (job, _, ct) =>
            {
                started.Add(job.Value);
                await finish.Task.WaitAsync(ct);
            }),
            driver: o => o.UseListenNotify = false, // no pause notification reaches the worker: only its periodic check
            worker: o => { o.Concurrency = 1; o.Prefetch = 4; });
        await q.Queue.PushManyAsync(Enumerable.Range(0, 5).Select(i => new ValueJob(i)));
        await q.StartAsync();
        await started.WaitForCountAsync(1);
        await TestExtensions.EventuallyAsync(async () => (await q.Queue.GetCountsAsync()).Processing == 5, what: "one running, four claimed not started");

        Assert.True(await q.Queue.PauseQueueAsync(q.Driver.QueueName, reason: "test"));
        await TestExtensions.EventuallyAsync(async () => (await q.Queue.GetCountsAsync()).Processing == 1, seconds: 15,
            what: "the four waiting claims given back");
        Assert.Equal(4, (await q.Queue.GetCountsAsync()).Pending);

        finish.SetResult(); // the running job finishes; nothing else starts while the queue is paused
        await TestExtensions.EventuallyAsync(async () => (await q.Queue.GetCountsAsync()).Processing == 0, what: "the running job finished");
        Assert.Single(started.Items);
        Assert.Equal(4, (await q.Queue.GetCountsAsync()).Pending);

        Assert.True(await q.Queue.ResumeQueueAsync(q.Driver.QueueName));
        await started.WaitForCountAsync(5);
        Assert.Equal(Enumerable.Range(0, 5), started.Items.Order());
    }

    [Fact]
    public async Task Counts_and_cleanup_cover_every_queue_of_the_process()
    {
        var other = "cq" + Guid.NewGuid().ToString("N")[..8];
        await using var q = await TestQueue.CreateAsync(fixture, jobs => jobs.AddQueue(other).AddJob<ValueJob>((_, _, _) => Task.CompletedTask));
        await q.Queue.PushAsync(new ValueJob(1));
        await q.Queue.PushAsync(new ValueJob(2), new JobOptions { Queue = other });
        await q.Queue.PushAsync(new ValueJob(3), new JobOptions { Queue = other, DelayUntil = DateTimeOffset.UtcNow.AddHours(1) });

        Assert.Equal(3, (await q.Queue.GetCountsAsync()).Pending);
        Assert.Equal(2, (await q.Queue.GetCountsAsync(other)).Pending);
        Assert.Equal(1, (await q.Queue.GetCountsAsync(q.Driver.QueueName)).Pending);

        // One queue by name, then every queue.
        await q.Queue.CleanupAsync(other, new CleanupOptions { PendingJobs = CleanupAction.Remove });
        Assert.Equal(0, (await q.Queue.GetCountsAsync(other)).Pending);
        Assert.Equal(1, (await q.Queue.GetCountsAsync()).Pending);
        await q.Queue.PushAsync(new ValueJob(4), new JobOptions { Queue = other });
        await q.Queue.CleanupAsync(new CleanupOptions { PendingJobs = CleanupAction.Remove });
        Assert.Equal(0, (await q.Queue.GetCountsAsync()).Pending);
    }

    [Fact]
    public async Task Many_queues_in_one_process_each_with_its_own_concurrency_over_one_listen_connection()
    {
        var prefix = "mq" + Guid.NewGuid().ToString("N")[..8];
        var (a, b) = (prefix + "_a", prefix + "_b");
        var running = new ConcurrentDictionary<string, int>();
        var max = new ConcurrentDictionary<string, int>();
        var total = 0;
        var allBusy = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var done = new Recorder<string>();
        async Task Run(string queue, CancellationToken ct)
        {
            var now = running.AddOrUpdate(queue, 1, (_, v) => v + 1);
            max.AddOrUpdate(queue, now, (_, v) => Math.Max(v, now));
            if (Interlocked.Increment(ref total) >= 1 + 3 + 2)
            {
                allBusy.TrySetResult(); // every queue has all its slots busy at once
            }

            // Every slot fills in correct code, however slow the machine: the wait only keeps a broken worker (fewer slots) from hanging
            // the test, which then fails on the maxima below.
            await allBusy.Task.WaitAsync(TimeSpan.FromMinutes(2), ct).ContinueWith(_ => { }, TaskScheduler.Default);
            running.AddOrUpdate(queue, 0, (_, v) => v - 1);
            Interlocked.Decrement(ref total);
            done.Add(queue);
        }

        await using var q = await TestQueue.CreateAsync(fixture, jobs => jobs
                .AddQueue(a, o => o.Concurrency = 1)
                .AddQueue(b, o => o.Concurrency = 3)
                .AddQueue(TypedQueueJob.QueueName, o => o.Concurrency = 2)
                .AddJob<ValueJob>((_, ctx, ct) => Run(ctx.QueueName, ct))
                .AddJob<TypedQueueJob>((_, ctx, ct) => Run(ctx.QueueName, ct)),
            driver: o => o.PollInterval = TimeSpan.FromMinutes(1), // wake-ups come from NOTIFY only
            queueName: prefix + "_default");
        await q.StartAsync();
        Assert.Equal([q.Driver.QueueName, a, b, TypedQueueJob.QueueName], q.Worker.QueueNames);

        // One listening backend for the driver, whatever the number of queues (its last statement: a LISTEN of one of them).
        var listeners = $"SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'LISTEN \"jobs:jobs\\_test:{prefix}%' OR query LIKE 'LISTEN \"jobs:jobs\\_test:issue16%'";
        await TestExtensions.EventuallyAsync(async () => await q.DataSource.ScalarAsync(listeners) == 1, what: "one LISTEN connection");

        for (var i = 0; i < 4; i++)
        {
            await q.Queue.PushAsync(new ValueJob(i), new JobOptions { Queue = a });
            await q.Queue.PushAsync(new ValueJob(i), new JobOptions { Queue = b });
            await q.Queue.PushAsync(new TypedQueueJob(i)); // the type's queue
        }

        await done.WaitForCountAsync(12);
        Assert.Equal(1, max[a]);
        Assert.Equal(3, max[b]);
        Assert.Equal(2, max[TypedQueueJob.QueueName]);
        Assert.Equal(4, done.Items.Count(x => x == a));
        Assert.Equal(4, done.Items.Count(x => x == TypedQueueJob.QueueName));
        Assert.Equal(1, await q.DataSource.ScalarAsync(listeners));
    }

    [Fact]
    public async Task Pausing_one_queue_stops_its_claims_only_and_resume_restarts_them()
    {
        var prefix = "pq" + Guid.NewGuid().ToString("N")[..8];
        var (paused, other) = (prefix + "_paused", prefix + "_other");
        var done = new Recorder<string>();
        await using var q = await TestQueue.CreateAsync(fixture, jobs => jobs
            .AddQueue(paused)
            .AddQueue(other)
            .AddJob<ValueJob>((_, ctx, _) =>
            {
                done.Add(ctx.QueueName);
                return Task.CompletedTask;
            }), queueName: prefix + "_default");
        Assert.True(await q.Queue.PauseQueueAsync(paused, reason: "test"));
        await q.StartAsync();
        for (var i = 0; i < 3; i++)
        {
            await q.Queue.PushAsync(new ValueJob(i), new JobOptions { Queue = paused });
            await q.Queue.PushAsync(new ValueJob(i), new JobOptions { Queue = other });
        }

        await done.WaitForCountAsync(3);
        Assert.All(done.Items, x => Assert.Equal(other, x));
        // The other queue drained while this one kept its jobs: nothing of it was claimed.
        Assert.Equal(3, (await q.Driver.ForQueue(paused).GetCountsAsync(default)).Pending);
        var info = Assert.Single(await q.Queue.GetQueuesAsync(), x => x.Name == paused);
        Assert.True(info.IsPaused);
        Assert.Equal(3, info.Counts.Pending);

        Assert.True(await q.Queue.ResumeQueueAsync(paused));
        await done.WaitForCountAsync(6);
        Assert.Equal(3, done.Items.Count(x => x == paused));
    }

    [Fact]
    public async Task Sixteen_concurrent_pushers_of_one_unique_key_store_one_job_and_UniqueFor_decides_after_completion()
    {
        var done = new Recorder<int>();
        await using var q = await TestQueue.CreateAsync(fixture, jobs => jobs
            .AddJob<UniqueAccountJob>((job, _, _) =>
            {
                done.Add(job.N);
                return Task.CompletedTask;
            })
            .AddJob<HeldAccountJob>((job, _, _) =>
            {
                done.Add(1000 + job.N);
                return Task.CompletedTask;
            }));
        var account = Guid.NewGuid();

        async Task<JobPushResult[]> PushTogetherAsync(Func<int, Task<JobPushResult>> push)
        {
            var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var pushers = Enumerable.Range(0, 16).Select(i => Task.Run(async () =>
            {
                await start.Task;
                return await push(i);
            })).ToArray();
            start.SetResult();
            return await Task.WhenAll(pushers);
        }

        var unique = await PushTogetherAsync(i => q.Queue.TryPushAsync(new UniqueAccountJob(account, i)));
        var held = await PushTogetherAsync(i => q.Queue.TryPushAsync(new HeldAccountJob(account, i)));
        foreach (var results in new[] { unique, held })
        {
            Assert.Single(results, r => r.Inserted);
            Assert.Single(results.Select(r => r.Id).Distinct());
        }

        Assert.Equal(2, (await q.Queue.GetCountsAsync()).Pending);
        // Another key is another job.
        Assert.True((await q.Queue.TryPushAsync(new UniqueAccountJob(Guid.NewGuid(), 99))).Inserted);

        await q.StartAsync();
        await done.WaitForCountAsync(3);
        await TestExtensions.EventuallyAsync(async () => (await q.Queue.GetCountsAsync()).Processing == 0, what: "outcomes recorded");

        // UniqueFor = 0: the finished job released the key. UniqueFor = 1 h: it still holds it (though completed jobs are deleted).
        var again = await q.Queue.TryPushAsync(new UniqueAccountJob(account, 100));
        Assert.True(again.Inserted);
        Assert.NotEqual(unique[0].Id, again.Id);
        Assert.Equal(new JobPushResult(held[0].Id, false), await q.Queue.TryPushAsync(new HeldAccountJob(account, 100)));
        Assert.Equal(held[0].Id, await q.Queue.PushAsync(new HeldAccountJob(account, 101)));
    }
}
