using System.Data.Common;
using System.Transactions;
using Jobs.Sdk.Drivers;
using Xunit;

namespace Jobs.Sdk.Testing;

/// <summary>
/// Two ambient scopes that each hold a key (a unique key, or a concurrency key) the other then pushes wait for each other:
/// on every driver one of the two pushes fails at once with a deadlock, a <see cref="DbException"/> whose
/// <see cref="DbException.SqlState"/> is 40P01 (PostgreSQL's deadlock_detected) and that is transient, and its scope's
/// pushes are undone (it takes no more: 25P02, and its commit stores nothing); the other scope goes on, commits, and its
/// jobs are stored.
/// </summary>
public abstract partial class JobDriverConformanceTests
{
    /// <summary>Far above PostgreSQL's deadlock_timeout (1 s), far below a scope's timeout (a minute).</summary>
    private static readonly TimeSpan DeadlockDeadline = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Two_scopes_that_each_push_a_key_the_other_holds_deadlock_one_fails_and_the_other_commits(bool concurrencyKeys)
    {
        var d = await DriverAsync();
        JobPushRecord Job(int value, string key) => concurrencyKeys ? Keyed(value, key) : Unique(value, key);
        Task Push(JobPushRecord job) => concurrencyKeys ? d.PushAsync([job], null, default) : d.PushUniqueAsync(job, null, default);

        JobPushRecord[] first = [Job(1, "a"), Job(2, "b")];
        JobPushRecord[] second = [Job(3, "b"), Job(4, "a")];
        var held = new[] { new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously) };

        // Each scope on its own thread: it pushes its key, waits until the other holds the other key, then pushes that. The
        // one that fails tries one more push in its aborted transaction, and completes its scope all the same.
        async Task<(Exception? Failed, Exception? Next)> ScopeAsync(int i)
        {
            using var scope = Scope();
            await Push(first[i]);
            held[i].SetResult();
            await held[1 - i].Task;
            var failed = await Xunit.Record.ExceptionAsync(() => Push(second[i]));
            var next = failed is null ? null : await Xunit.Record.ExceptionAsync(() => Push(Job(7 + i, "c" + i)));
            scope.Complete();
            return (failed, next);
        }

        var both = Task.WhenAll(Task.Run(() => ScopeAsync(0)), Task.Run(() => ScopeAsync(1)));
        if (await Task.WhenAny(both, Task.Delay(DeadlockDeadline)) != both)
        {
            Assert.Fail($"After {DeadlockDeadline.TotalSeconds:0} s neither scope's push of the key the other holds has ended: the two wait for each other "
                + "(until their scopes time out) instead of one failing with a deadlock.");
        }

        var outcomes = await both;
        var (failed, next) = Assert.Single(outcomes, o => o.Failed is not null);
        var deadlock = Assert.IsAssignableFrom<DbException>(failed);
        Assert.Equal("40P01", deadlock.SqlState);
        Assert.True(deadlock.IsTransient, "a deadlock is worth retrying: the user's retry policy for transient database errors must see it");

        // The aborted transaction takes nothing more, and its commit stores nothing (as PostgreSQL's COMMIT of it rolls back).
        var refused = Assert.IsAssignableFrom<DbException>(next);
        Assert.Equal("25P02", refused.SqlState);
        Assert.False(refused.IsTransient);

        var winner = outcomes[0].Failed is null ? 0 : 1;
        Assert.NotNull(await d.GetJobAsync(first[winner].Id, default));
        Assert.NotNull(await d.GetJobAsync(second[winner].Id, default));
        Assert.Null(await d.GetJobAsync(first[1 - winner].Id, default));
        Assert.Null(await d.GetJobAsync(second[1 - winner].Id, default));
        Assert.Equal(2, (await d.GetCountsAsync(default)).Pending);

        // Nothing is left held: pushes of both keys from outside go through at once.
        if (concurrencyKeys)
        {
            await d.PushAsync([Job(5, "a"), Job(6, "b")], null, default).WaitAsync(DeadlockDeadline);
            Assert.Equal(4, (await d.GetCountsAsync(default)).Pending);
        }
        else
        {
            var again = await d.PushUniqueManyAsync([Job(5, "a"), Job(6, "b")], null, default).WaitAsync(DeadlockDeadline);
            Assert.Equal([false, false], again.Select(r => r.Inserted));
            Assert.Equal(Ids(first[winner], second[winner]), again.Select(r => r.Id.Value).Order().ToArray());
        }
    }
}
