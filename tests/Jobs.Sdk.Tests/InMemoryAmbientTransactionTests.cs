using System.Data.Common;
using System.Transactions;

namespace Jobs.Sdk.Tests;

/// <summary>
/// A host on the in-memory driver (tests written against it stand for production on PostgreSQL): a push inside a
/// <see cref="TransactionScope"/> joins it, as on PostgreSQL. A scope disposed without <see cref="TransactionScope.Complete"/>
/// leaves no job to run or read; a completed one stores its jobs at its commit and wakes the idle worker.
/// </summary>
public sealed class InMemoryAmbientTransactionTests
{
    private static TransactionScope Scope() => new(TransactionScopeOption.Required, TransactionScopeAsyncFlowOption.Enabled);

    /// <summary>A worker that runs one job at a time, in claim order, and that only a push (or a commit) wakes.</summary>
    private static Task<TestHost> StartAsync(RunLog log) => TestHost.Create(j => j
            .AddJob<ValueJob>((job, ctx, _) => { log.Add(job.Value, ctx.Attempt); return Task.CompletedTask; })
            .AddJob<UniqueValueJob>((job, ctx, _) => { log.Add(job.Value, ctx.Attempt); return Task.CompletedTask; })
            .AddWorkers(o => o.Concurrency = 1),
        driver: d =>
        {
            d.PollInterval = TimeSpan.FromHours(1);
            d.Retention = new RetentionPolicy { CompletedJobs = Retain.Yes };
        }).StartAsync();

    [Fact]
    public async Task A_push_in_a_scope_disposed_without_Complete_never_runs_and_is_never_readable()
    {
        var log = new RunLog();
        await using var host = await StartAsync(log);
        JobId single;
        IReadOnlyList<JobId> batch;
        JobPushResult unique;
        using (Scope())
        {
            single = await host.Queue.PushAsync(new ValueJob(1));
            batch = await host.Queue.PushManyAsync([new ValueJob(2), new ValueJob(3)]);
            unique = await host.Queue.TryPushAsync(new UniqueValueJob(4));
            Assert.True(unique.Inserted);
            Assert.Null(await host.Queue.GetJobAsync(single));
            Assert.Equal(0, (await host.Queue.GetCountsAsync()).Pending);
        }

        // Pushed after the scope, a later job runs after any job the scope left (one at a time, in push order).
        var after = await host.Queue.PushAsync(new ValueJob(5));
        await log.WaitForAsync(5);
        await host.WaitForStateAsync(after, JobState.Completed);
        Assert.Equal([5], log.Values);
        Assert.Null(await host.Queue.GetJobAsync(single));
        Assert.Null(await host.Queue.GetJobAsync(batch[1]));
        Assert.Null(await host.Queue.GetJobAsync(unique.Id));
        Assert.Equal(1, (await host.Queue.GetCountsAsync()).Completed);
    }

    [Fact]
    public async Task A_completed_scopes_jobs_are_invisible_until_its_commit_then_wake_the_idle_worker_and_run_once()
    {
        var log = new RunLog();
        await using var host = await StartAsync(log);
        JobId single;
        IReadOnlyList<JobId> batch;
        using (var scope = Scope())
        {
            single = await host.Queue.PushAsync(new ValueJob(1));
            batch = await host.Queue.PushManyAsync([new ValueJob(2), new ValueJob(3)]);
            Assert.Null(await host.Queue.GetJobAsync(single));
            Assert.Equal(0, (await host.Queue.GetCountsAsync()).Pending);
            scope.Complete();
        }

        // The worker sleeps for an hour unless woken: only the commit can have woken it.
        await host.WaitForStateAsync(single, JobState.Completed);
        await host.WaitForStateAsync(batch[1], JobState.Completed);
        var marker = await host.Queue.PushAsync(new ValueJob(9));
        await host.WaitForStateAsync(marker, JobState.Completed);
        Assert.Equal([1, 2, 3, 9], log.Values);
    }

    [Fact]
    public async Task A_unique_push_in_a_scope_that_rolls_back_leaves_its_key_free()
    {
        var log = new RunLog();
        await using var host = await StartAsync(log);
        JobPushResult inScope;
        using (Scope())
        {
            inScope = await host.Queue.TryPushAsync(new UniqueValueJob(7));
            Assert.True((await host.Queue.TryPushManyAsync([new UniqueValueJob(8)]))[0].Inserted);
        }

        var again = await host.Queue.TryPushAsync(new UniqueValueJob(7));
        var againMany = await host.Queue.TryPushManyAsync([new UniqueValueJob(8)]);
        Assert.True(again.Inserted, "the key of the rolled-back push is still held");
        Assert.True(againMany[0].Inserted, "the key of the rolled-back batch is still held");
        Assert.NotEqual(inScope.Id, again.Id);
        await host.WaitForStateAsync(again.Id, JobState.Completed);
        await host.WaitForStateAsync(againMany[0].Id, JobState.Completed);
        Assert.Equal([7, 8], log.Values);
    }

    [Fact]
    public async Task Scopes_that_commit_and_roll_back_on_many_threads_while_the_worker_runs_leave_exactly_the_committed_jobs_run_once()
    {
        var log = new RunLog();
        await using var host = await StartAsync(log);
        await Parallel.ForAsync(0, 400, async (i, ct) =>
        {
            using var scope = Scope();
            await host.Queue.PushAsync(new ValueJob(i), cancellationToken: ct);
            await host.Queue.TryPushAsync(new UniqueValueJob(10_000 + (i / 2)), cancellationToken: ct); // two scopes per key: one commits, one does not
            if (i % 2 == 0)
            {
                scope.Complete();
            }
        });

        var marker = await host.Queue.PushAsync(new ValueJob(-1)); // claimed after every committed job
        await host.WaitForStateAsync(marker, JobState.Completed);
        var ran = log.Values.Where(v => v != -1).ToList();
        Assert.Equal(ran.Distinct().Count(), ran.Count);
        var plain = ran.Where(v => v < 10_000).Order().ToList();
        Assert.Equal(Enumerable.Range(0, 200).Select(i => i * 2), plain);
        // Every key ran once: the scope that commits took it, or waited for the other scope to roll back and took it then.
        Assert.Equal(Enumerable.Range(10_000, 200), ran.Where(v => v >= 10_000).Order());
    }

    [Fact]
    public async Task Two_scopes_that_each_push_a_unique_job_the_other_holds_fail_one_with_a_deadlock_and_run_the_others_jobs_once()
    {
        var log = new RunLog();
        await using var host = await StartAsync(log);
        var held = new[] { new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously) };

        // Scope i pushes job i+1, waits until the other holds its job, then pushes the other's: the key the other holds.
        async Task<(JobId[] Ids, Exception? Failed)> ScopeAsync(int i)
        {
            using var scope = Scope();
            var mine = await host.Queue.TryPushAsync(new UniqueValueJob(i + 1));
            held[i].SetResult();
            await held[1 - i].Task;
            try
            {
                var theirs = await host.Queue.TryPushAsync(new UniqueValueJob(2 - i));
                scope.Complete();
                return ([mine.Id, theirs.Id], null);
            }
            catch (DbException ex) when (ex.SqlState == "40P01") // as a user catches PostgreSQL's deadlock
            {
                return ([], ex);
            }
        }

        var both = Task.WhenAll(Task.Run(() => ScopeAsync(0)), Task.Run(() => ScopeAsync(1)));
        if (await Task.WhenAny(both, Task.Delay(TestHost.Timeout)) != both)
        {
            Assert.Fail($"After {TestHost.Timeout.TotalSeconds:0} s neither scope's push of the job the other holds has ended: the scopes wait for each other until they time out.");
        }

        var outcomes = await both;
        Assert.Single(outcomes, o => o.Failed is not null);
        var winner = Assert.Single(outcomes, o => o.Failed is null);
        foreach (var id in winner.Ids)
        {
            await host.WaitForStateAsync(id, JobState.Completed);
        }

        Assert.Equal([1, 2], log.Values.Order());
    }
}
