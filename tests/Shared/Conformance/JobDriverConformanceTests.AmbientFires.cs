using Jobs.Sdk.Drivers;
using Xunit;

namespace Jobs.Sdk.Testing;

/// <summary>
/// A scheduled fire and an operator's run of a schedule entry (<see cref="IJobAdminStore.TriggerScheduleAsync"/>) run
/// outside any ambient transaction, and meet the keys an open scope pushed as a push from outside does, on every driver:
/// they wait for the scope (PostgreSQL's insert waits for the scope's uncommitted row of the unique key, or for its
/// concurrency key's lock), then find the unique key held (the scope committed) or take it (it did not), and go behind
/// the scope's jobs in the key's line.
/// </summary>
public abstract partial class JobDriverConformanceTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_scheduled_fire_of_a_unique_key_an_open_scope_pushed_waits_for_the_scope(bool commit)
    {
        var d = await DriverAsync();
        var clean = ExecutionContext.Capture()!; // no scope: the scheduler's context
        var inScope = Unique(1, "k");
        var fire = Unique(2, "k");
        Task<ScheduledFireResult> waiting = null!;
        using (var scope = Scope())
        {
            Assert.True((await d.PushUniqueAsync(inScope, null, default)).Inserted);
            ExecutionContext.Run(clean, _ => waiting = Store(d).PushScheduledAsync(UniqueEntry, Fire(1), fire, default), null);
            Assert.False(waiting.IsCompleted); // held by the scope: neither stored nor refused yet
            if (commit)
            {
                scope.Complete();
            }
        }

        var result = await waiting.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(commit ? new ScheduledFireResult(ScheduledFireOutcome.KeyHeld, inScope.Id) : new ScheduledFireResult(ScheduledFireOutcome.Pushed, fire.Id), result);
        Assert.Equal(1, (await d.GetCountsAsync(default)).Pending);
        Assert.Equal(Fire(1), await Store(d).GetLastFireTimeAsync(UniqueEntry, default));
    }

    [Fact]
    public async Task A_scheduled_fire_of_a_concurrency_key_an_open_scope_pushed_waits_for_the_scope_and_goes_behind()
    {
        var d = await DriverAsync();
        var clean = ExecutionContext.Capture()!;
        var inScope = Keyed(1, "k");
        var fire = Keyed(2, "k");
        Task<ScheduledFireResult> waiting = null!;
        using (var scope = Scope())
        {
            await d.PushAsync([inScope], null, default);
            ExecutionContext.Run(clean, _ => waiting = Store(d).PushScheduledAsync("keyed-entry", Fire(1), fire, default), null);
            using (Outside())
            {
                Assert.Null(await d.GetJobAsync(fire.Id, default)); // not stored while the scope holds the key
            }

            scope.Complete();
        }

        Assert.Equal(new ScheduledFireResult(ScheduledFireOutcome.Pushed, fire.Id), await waiting.WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.Equal([inScope.Id], (await ClaimAsync(d, "w")).Select(c => c.Id)); // the key's line: the scope's job first
        await d.CompleteAsync("w", [Outcome(inScope.Id, JobOutcomeKind.Completed, 1)], default);
        Assert.Equal([fire.Id], (await ClaimAsync(d, "w")).Select(c => c.Id));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task An_operators_run_of_an_entry_whose_unique_key_an_open_scope_pushed_waits_for_the_scope(bool commit)
    {
        var d = await DriverAsync();
        var admin = AdminStore(d);
        var entry = await PublishEntryAsync(admin, d, uniqueKey: "k", concurrencyKey: null);
        var clean = ExecutionContext.Capture()!; // no scope: the operator's request
        var inScope = Unique(1, "k");
        var run = JobId.New();
        Task<int> waiting = null!;
        using (var scope = Scope())
        {
            Assert.True((await d.PushUniqueAsync(inScope, null, default)).Inserted);
            ExecutionContext.Run(clean, _ => waiting = admin.TriggerScheduleAsync(entry, run, default), null);
            Assert.False(waiting.IsCompleted); // held by the scope: neither stored nor refused yet
            if (commit)
            {
                scope.Complete();
            }
        }

        Assert.Equal(commit ? 0 : 1, await waiting.WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.Equal(commit, await d.GetJobAsync(run, default) is null);
        Assert.Equal(1, (await d.GetCountsAsync(default)).Pending);
    }

    [Fact]
    public async Task An_operators_run_of_an_entry_whose_concurrency_key_an_open_scope_pushed_waits_for_the_scope_and_goes_behind()
    {
        var d = await DriverAsync();
        var admin = AdminStore(d);
        var entry = await PublishEntryAsync(admin, d, uniqueKey: null, concurrencyKey: "k");
        var clean = ExecutionContext.Capture()!;
        var inScope = Keyed(1, "k");
        var run = JobId.New();
        Task<int> waiting = null!;
        using (var scope = Scope())
        {
            await d.PushAsync([inScope], null, default);
            ExecutionContext.Run(clean, _ => waiting = admin.TriggerScheduleAsync(entry, run, default), null);
            using (Outside())
            {
                Assert.Null(await d.GetJobAsync(run, default)); // not stored while the scope holds the key
            }

            scope.Complete();
        }

        Assert.Equal(1, await waiting.WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.Equal([inScope.Id], (await ClaimAsync(d, "w")).Select(c => c.Id)); // the key's line: the scope's job first
        await d.CompleteAsync("w", [Outcome(inScope.Id, JobOutcomeKind.Completed, 1)], default);
        Assert.Equal([run], (await ClaimAsync(d, "w")).Select(c => c.Id));
    }

    /// <summary>Publishes an entry of <paramref name="d"/>'s queue with the keys given; returns its key.</summary>
    private static async Task<string> PublishEntryAsync(IJobAdminStore admin, IJobDriver d, string? uniqueKey, string? concurrencyKey)
    {
        var key = "scoped-" + Guid.NewGuid().ToString("N");
        await admin.PublishSchedulesAsync(
        [
            new ScheduleRegistration
            {
                QueueName = d.QueueName, EntryKey = key, JobName = ValueJob.JobName, Description = "hourly", Payload = "{\"value\":1}"u8.ToArray(),
                UniqueKey = uniqueKey, ConcurrencyKey = concurrencyKey, ConcurrencyLimit = concurrencyKey is null ? null : 1,
            },
        ], default);
        return key;
    }
}
