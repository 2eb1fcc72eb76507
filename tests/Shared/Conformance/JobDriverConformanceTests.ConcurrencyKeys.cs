using Jobs.Sdk.Drivers;
using Xunit;

namespace Jobs.Sdk.Testing;

/// <summary>
/// Issue 16: per-key concurrency (<see cref="JobPushRecord.ConcurrencyKey"/>, <see cref="JobPushRecord.ConcurrencyLimit"/>):
/// at most the limit of a key's jobs are claimed at once, and per key they are claimed in push order.
/// </summary>
public abstract partial class JobDriverConformanceTests
{
    private static JobPushRecord Keyed(int value, string key, int limit = 1, JobPriority priority = JobPriority.Normal)
        => Record(value, priority) with { ConcurrencyKey = key, ConcurrencyLimit = limit };

    private static Guid[] Ids(params JobPushRecord[] records) => [.. records.Select(r => r.Id.Value).Order()];

    private static Guid[] Ids(IReadOnlyList<ClaimedJob> claimed) => [.. claimed.Select(c => c.Id.Value).Order()];

    [Fact]
    public async Task A_key_with_limit_1_runs_one_job_at_a_time_in_push_order_and_other_keys_and_unkeyed_jobs_are_not_held()
    {
        var d = await DriverAsync();
        JobPushRecord[] a = [Keyed(1, "a"), Keyed(2, "a"), Keyed(3, "a")];
        var b = Keyed(4, "b");
        var plain = Record(5);
        await d.PushAsync([.. a, b, plain], null, default); // many at once

        Assert.Equal(Ids(a[0], b, plain), Ids(await ClaimAsync(d, "w")));
        Assert.Empty(await ClaimAsync(d, "w"));

        await d.CompleteAsync("w", [Outcome(a[0].Id, JobOutcomeKind.Completed, 1)], default);
        Assert.Equal([a[1].Id], (await ClaimAsync(d, "w")).Select(c => c.Id));

        // A job waiting for its retry keeps its place: the next one of its key stays behind it.
        await d.CompleteAsync("w", [Outcome(a[1].Id, JobOutcomeKind.Retry, 1, Error: "again")], default);
        Assert.Equal([a[1].Id], (await ClaimAsync(d, "w")).Select(c => c.Id));
        await d.CompleteAsync("w", [Outcome(a[1].Id, JobOutcomeKind.Failed, 2, Error: "no")], default);
        Assert.Equal([a[2].Id], (await ClaimAsync(d, "w")).Select(c => c.Id));
    }

    [Fact]
    public async Task Per_key_push_order_wins_over_priority()
    {
        var d = await DriverAsync();
        var first = Keyed(1, "k");
        var urgent = Keyed(2, "k", priority: JobPriority.Highest);
        await d.PushAsync([first], null, default);
        await d.PushAsync([urgent], null, default);

        Assert.Equal([first.Id], (await ClaimAsync(d, "w")).Select(c => c.Id));
        await d.CompleteAsync("w", [Outcome(first.Id, JobOutcomeKind.Completed, 1)], default);
        Assert.Equal([urgent.Id], (await ClaimAsync(d, "w")).Select(c => c.Id));
    }

    [Fact]
    public async Task A_key_with_limit_2_runs_two_at_a_time_oldest_first()
    {
        var d = await DriverAsync();
        var jobs = Enumerable.Range(1, 5).Select(i => Keyed(i, "k", limit: 2)).ToArray();
        foreach (var job in jobs)
        {
            await d.PushAsync([job], null, default); // one at a time
        }

        Assert.Equal(Ids(jobs[0], jobs[1]), Ids(await ClaimAsync(d, "w")));
        Assert.Empty(await ClaimAsync(d, "w"));
        await d.CompleteAsync("w", [Outcome(jobs[1].Id, JobOutcomeKind.Completed, 1)], default);
        Assert.Equal([jobs[2].Id], (await ClaimAsync(d, "w")).Select(c => c.Id));
        await d.CompleteAsync("w", [Outcome(jobs[0].Id, JobOutcomeKind.Cancelled, 1)], default);
        Assert.Equal([jobs[3].Id], (await ClaimAsync(d, "w")).Select(c => c.Id));
    }

    [Fact]
    public async Task Concurrency_keys_are_per_queue_and_unique_pushes_carry_them()
    {
        var d = await DriverAsync();
        var other = d.ForQueue(d.QueueName + "-other");
        var mine = Keyed(1, "k") with { UniqueKey = "u1" };
        var behind = Keyed(2, "k") with { UniqueKey = "u2" };
        Assert.True((await d.PushUniqueAsync(mine, null, default)).Inserted);
        Assert.True((await d.PushUniqueAsync(behind, null, default)).Inserted);
        var theirs = Keyed(3, "k");
        await other.PushAsync([theirs], null, default);

        Assert.Equal([mine.Id], (await ClaimAsync(d, "w")).Select(c => c.Id));
        Assert.Equal([theirs.Id], (await ClaimAsync(other, "w")).Select(c => c.Id));
    }
}
