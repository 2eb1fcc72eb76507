namespace Jobs.Sdk.Tests;

/// <summary>The kinds of unordered members a whole-payload unique key meets, at any depth.</summary>
public enum Tier
{
    Gold,
    Silver,
    Bronze,
}

/// <summary>A nested object holding a read-only dictionary and a set of enum values.</summary>
public sealed record TagGroup(string Name, IReadOnlyDictionary<string, string> Labels, HashSet<Tier> Tiers);

/// <summary>A unique job without key members (the whole payload is the key) holding dictionaries and sets.</summary>
[Job("tests.unordered-payload", Unique = true)]
public sealed partial record UnorderedPayload(
    Guid Account,
    Dictionary<string, int> Weights,
    HashSet<string> Tags,
    HashSet<int> Numbers,
    HashSet<Guid>? Ids,
    IDictionary<string, HashSet<DateOnly>> Days,
    List<TagGroup> Groups);

/// <summary>
/// On the in-memory driver as on PostgreSQL (Jobs.Sdk.Postgres.Tests: UniquePayloadOrderTests): a unique job keyed by
/// its whole payload is one job whatever order its dictionaries and sets were filled in; lists keep their order.
/// </summary>
public sealed class UniquePayloadOrderTests
{
    private static readonly Guid A = Guid.Parse("5d1c4a52-5a8e-4c1b-9d07-0f3f0c5b7a11");
    private static readonly Guid B = Guid.Parse("0a4e2f0e-77a3-4bde-8a43-4c0b5f2b9e22");

    [Fact]
    public async Task The_same_content_filled_in_another_order_is_the_same_job()
    {
        await using var host = TestHost.Create(_ => { });
        var account = Guid.NewGuid();

        var first = await host.Queue.TryPushAsync(Build(account, reversed: false));
        var second = await host.Queue.TryPushAsync(Build(account, reversed: true));

        Assert.True(first.Inserted);
        Assert.Equal(new JobPushResult(first.Id, false), second);
        Assert.Equal(1, (await host.Queue.GetCountsAsync()).Pending);
    }

    [Fact]
    public async Task Lists_keep_their_order_so_another_list_order_is_another_job()
    {
        await using var host = TestHost.Create(_ => { });
        var account = Guid.NewGuid();
        var job = Build(account, reversed: false);

        Assert.True((await host.Queue.TryPushAsync(job)).Inserted);
        Assert.True((await host.Queue.TryPushAsync(job with { Groups = [job.Groups[1], job.Groups[0]] })).Inserted);
        Assert.Equal(2, (await host.Queue.GetCountsAsync()).Pending);
    }

    private static UnorderedPayload Build(Guid account, bool reversed)
    {
        IEnumerable<T> Order<T>(IEnumerable<T> items) => reversed ? items.Reverse() : items;
        var weights = new Dictionary<string, int>();
        foreach (var (key, value) in Order([("b", 2), ("a", 1), ("é", 3), ("B", 4)]))
        {
            weights[key] = value;
        }

        var days = new Dictionary<string, HashSet<DateOnly>>();
        foreach (var key in Order(["mon", "tue"]))
        {
            days[key] = [.. Order([new DateOnly(2026, 1, 2), new DateOnly(2025, 12, 31)])];
        }

        var labels = new Dictionary<string, string>();
        foreach (var (key, value) in Order([("env", "prod"), ("app", "web")]))
        {
            labels[key] = value;
        }

        return new UnorderedPayload(
            account,
            weights,
            [.. Order(["y", "x", "Z"])],
            [.. Order([3, -1, 2])],
            [.. Order([A, B])],
            days,
            [new TagGroup("first", labels, [.. Order([Tier.Bronze, Tier.Gold])]), new TagGroup("second", new Dictionary<string, string>(), [])]);
    }
}
