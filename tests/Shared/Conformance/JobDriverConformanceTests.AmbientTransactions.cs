using System.Transactions;
using Jobs.Sdk.Drivers;
using Xunit;

namespace Jobs.Sdk.Testing;

/// <summary>
/// Pushes given no transaction inside an ambient <see cref="Transaction"/> (a <see cref="TransactionScope"/>) join it, on
/// every driver: single, batch, unique and keyed pushes are stored only when the scope commits, and are gone when it does
/// not. Until then no read, claim or unique push of other code sees them (the driver's reads and claims run outside the
/// scope, so neither does the pushing code itself); a unique push of the same key from outside waits for the scope.
/// </summary>
public abstract partial class JobDriverConformanceTests
{
    private static TransactionScope Scope() => new(TransactionScopeOption.Required, TransactionScopeAsyncFlowOption.Enabled);

    private static TransactionScope Outside() => new(TransactionScopeOption.Suppress, TransactionScopeAsyncFlowOption.Enabled);

    [Fact]
    public async Task Pushes_in_a_scope_are_stored_only_when_it_commits_and_are_invisible_until_then()
    {
        var d = await DriverAsync();
        var single = Record(1);
        JobPushRecord[] batch = [Record(2), Record(3)];
        var unique = Unique(4, "u4");
        var keyed = Keyed(5, "k5");
        JobPushRecord[] uniqueBatch = [Unique(6, "u6"), Record(7)];
        using (var scope = Scope())
        {
            await d.PushAsync([single], null, default);
            await d.PushAsync(batch, null, default);
            Assert.Equal(new JobPushResult(unique.Id, true), await d.PushUniqueAsync(unique, null, default));
            await d.PushAsync([keyed], null, default);
            Assert.All(await d.PushUniqueManyAsync(uniqueBatch, null, default), r => Assert.True(r.Inserted));

            // The scope's own later push of a key it holds sees its job, as a transaction sees its own rows.
            Assert.Equal(new JobPushResult(unique.Id, false), await d.PushUniqueAsync(Unique(8, "u4"), null, default));

            // Reads and claims run outside the scope: the jobs are not there yet, not even for the code that pushed them.
            Assert.Null(await d.GetJobAsync(single.Id, default));
            Assert.Null(await d.GetJobAsync(unique.Id, default));
            Assert.Equal(0, (await d.GetCountsAsync(default)).Pending);
            Assert.Empty(await ClaimAsync(d, "w"));
            scope.Complete();
        }

        Assert.Equal(7, (await d.GetCountsAsync(default)).Pending);
        Assert.Equal(JobState.Pending, (await InfoAsync(d, unique.Id)).State);
        Assert.Equal(Ids(single, batch[0], batch[1], unique, keyed, uniqueBatch[0], uniqueBatch[1]), Ids(await ClaimAsync(d, "w")));
        Assert.Equal(new JobPushResult(unique.Id, false), await d.PushUniqueAsync(Unique(9, "u4"), null, default));
    }

    [Fact]
    public async Task Pushes_in_a_scope_that_does_not_complete_are_never_stored_and_free_their_unique_keys()
    {
        var d = await DriverAsync();
        var single = Record(1);
        var unique = Unique(2, "u2");
        JobPushRecord[] uniqueBatch = [Unique(3, "u3"), Keyed(4, "k4")];
        using (Scope())
        {
            await d.PushAsync([single], null, default);
            Assert.True((await d.PushUniqueAsync(unique, null, default)).Inserted);
            Assert.All(await d.PushUniqueManyAsync(uniqueBatch, null, default), r => Assert.True(r.Inserted));
        }

        Assert.Null(await d.GetJobAsync(single.Id, default));
        Assert.Null(await d.GetJobAsync(unique.Id, default));
        Assert.Null(await d.GetJobAsync(uniqueBatch[1].Id, default));
        Assert.Equal(0, (await d.GetCountsAsync(default)).Pending);
        Assert.Empty(await ClaimAsync(d, "w"));

        // The keys were never held: pushed again, they are stored; so are the ids of the rolled-back jobs.
        var again = Unique(5, "u2");
        Assert.Equal(new JobPushResult(again.Id, true), await d.PushUniqueAsync(again, null, default));
        Assert.True((await d.PushUniqueManyAsync([Unique(6, "u3")], null, default))[0].Inserted);
        await d.PushAsync([single], null, default);
        Assert.Equal(3, (await d.GetCountsAsync(default)).Pending);
    }

    [Fact]
    public async Task A_push_in_a_suppressed_scope_inside_a_scope_is_stored_at_once()
    {
        var d = await DriverAsync();
        var job = Record(1);
        var unique = Unique(2, "u");
        using (Scope())
        {
            using (Outside())
            {
                await d.PushAsync([job], null, default);
                Assert.True((await d.PushUniqueAsync(unique, null, default)).Inserted);
            }

            Assert.NotNull(await d.GetJobAsync(job.Id, default));
        }

        Assert.Equal(2, (await d.GetCountsAsync(default)).Pending); // the outer scope's rollback does not reach them
    }

    [Fact]
    public async Task A_push_in_a_scope_without_async_flow_joins_it_when_called_on_the_scopes_thread()
    {
        var d = await DriverAsync();
        var job = Record(1);
        await Task.Run(() =>
        {
            using var scope = new TransactionScope(); // no async flow: the push decides on the caller's thread, at the call
            d.PushAsync([job], null, default).GetAwaiter().GetResult();
            Assert.Null(d.GetJobAsync(job.Id, default).GetAwaiter().GetResult());
        });

        Assert.Null(await d.GetJobAsync(job.Id, default));
    }

    [Fact]
    public async Task A_push_in_a_scope_whose_transaction_aborted_is_refused_and_stores_nothing()
    {
        var d = await DriverAsync();
        var job = Record(1);
        Exception? refused;
        using (Scope())
        {
            using (Scope())
            {
                // not completed: the transaction both scopes share aborts when this one ends
            }

            refused = await Xunit.Record.ExceptionAsync(() => d.PushAsync([job], null, default));
        }

        Assert.IsType<TransactionException>(refused); // the transaction's own, from its enlistment
        Assert.Null(await d.GetJobAsync(job.Id, default));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_unique_push_from_outside_of_a_key_an_open_scope_pushed_waits_for_the_scope(bool commit)
    {
        var d = await DriverAsync();
        var clean = ExecutionContext.Capture()!; // no scope: the other code's context
        var inScope = Unique(1, "k");
        var fromOutside = Unique(2, "k");
        Task<JobPushResult> waiting = null!;
        using (var scope = Scope())
        {
            Assert.True((await d.PushUniqueAsync(inScope, null, default)).Inserted);
            ExecutionContext.Run(clean, _ => waiting = d.PushUniqueAsync(fromOutside, null, default), null);
            Assert.False(waiting.IsCompleted); // held by the scope: neither stored nor refused yet
            if (commit)
            {
                scope.Complete();
            }
        }

        var result = await waiting.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(commit ? new JobPushResult(inScope.Id, false) : new JobPushResult(fromOutside.Id, true), result);
        Assert.Equal(1, (await d.GetCountsAsync(default)).Pending);
    }

    [Fact]
    public async Task A_keyed_push_from_outside_of_a_concurrency_key_an_open_scope_pushed_waits_for_the_scope_and_goes_behind()
    {
        var d = await DriverAsync();
        var clean = ExecutionContext.Capture()!; // no scope: the other code's context
        var inScope = Keyed(1, "k");
        var fromOutside = Keyed(2, "k");
        Task waiting = null!;
        using (var scope = Scope())
        {
            await d.PushAsync([inScope], null, default);
            ExecutionContext.Run(clean, _ => waiting = d.PushAsync([fromOutside], null, default), null);
            using (Outside())
            {
                Assert.Null(await d.GetJobAsync(fromOutside.Id, default)); // not stored while the scope holds the key
            }

            scope.Complete();
        }

        await waiting.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal([inScope.Id], (await ClaimAsync(d, "w")).Select(c => c.Id)); // the key's line: the scope's job first
        await d.CompleteAsync("w", [Outcome(inScope.Id, JobOutcomeKind.Completed, 1)], default);
        Assert.Equal([fromOutside.Id], (await ClaimAsync(d, "w")).Select(c => c.Id));
    }
}
