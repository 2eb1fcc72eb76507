namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// A unique job without <c>[UniqueKey]</c> members is keyed by its whole payload. Two pushers of the same logical job
/// may fill a dictionary or a set in different orders (two processes, two code paths): the key must not depend on it.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class UniquePayloadOrderTests(PostgresFixture fixture)
{
    [Fact]
    public async Task Two_pushes_of_a_dictionary_filled_in_different_orders_store_one_job()
    {
        await using var q = await TestQueue.CreateAsync(fixture, _ => { });
        var account = Guid.NewGuid();
        var forward = new Dictionary<string, int> { ["a"] = 1, ["b"] = 2, ["c"] = 3 };
        var backward = new Dictionary<string, int> { ["c"] = 3, ["b"] = 2, ["a"] = 1 };

        var first = await q.Queue.TryPushAsync(new SyncTags(account, forward));
        var second = await q.Queue.TryPushAsync(new SyncTags(account, backward));

        Assert.True(first.Inserted);
        Assert.Equal(new JobPushResult(first.Id, false), second);
        Assert.Equal(1, (await q.Queue.GetCountsAsync()).Pending);
    }

    [Fact]
    public async Task Two_pushes_of_a_set_filled_in_different_orders_store_one_job()
    {
        await using var q = await TestQueue.CreateAsync(fixture, _ => { });
        var account = Guid.NewGuid();

        var first = await q.Queue.TryPushAsync(new TagSet(account, ["x", "y", "z"]));
        var second = await q.Queue.TryPushAsync(new TagSet(account, ["z", "y", "x"]));

        Assert.True(first.Inserted);
        Assert.Equal(new JobPushResult(first.Id, false), second);
        Assert.Equal(1, (await q.Queue.GetCountsAsync()).Pending);
    }

    [Fact]
    public async Task A_batch_holding_both_orders_of_a_dictionary_names_one_job_for_both()
    {
        await using var q = await TestQueue.CreateAsync(fixture, _ => { });
        var account = Guid.NewGuid();

        var ids = await q.Queue.PushManyAsync([
            new SyncTags(account, new Dictionary<string, int> { ["b"] = 2, ["a"] = 1 }),
            new SyncTags(account, new Dictionary<string, int> { ["a"] = 1, ["b"] = 2 }),
        ]);

        Assert.Equal(ids[0], ids[1]);
        Assert.Equal(1, (await q.Queue.GetCountsAsync()).Pending);
    }

    [Fact]
    public async Task Different_contents_are_still_different_jobs()
    {
        await using var q = await TestQueue.CreateAsync(fixture, _ => { });
        var account = Guid.NewGuid();

        Assert.True((await q.Queue.TryPushAsync(new SyncTags(account, new Dictionary<string, int> { ["a"] = 1, ["b"] = 2 }))).Inserted);
        Assert.True((await q.Queue.TryPushAsync(new SyncTags(account, new Dictionary<string, int> { ["a"] = 2, ["b"] = 1 }))).Inserted);
        Assert.True((await q.Queue.TryPushAsync(new TagSet(account, ["x", "y"]))).Inserted);
        Assert.True((await q.Queue.TryPushAsync(new TagSet(account, ["x", "y", "z"]))).Inserted);
        Assert.Equal(4, (await q.Queue.GetCountsAsync()).Pending);
    }
}
