namespace Jobs.Sdk.Admin.Tests;

/// <summary>
/// <see cref="JobAdmin.GetQueueOverviewAsync"/>, the dashboard overview's summary of the queue list read in a few rows:
/// the same figures as the whole list (<see cref="JobAdmin.GetQueuesAsync(CancellationToken)"/>) gives, on every driver.
/// </summary>
public abstract partial class AdminConformanceTests
{
    [Fact]
    public async Task The_queue_overview_sums_up_the_whole_list_and_gives_the_busiest_queues_first_then_by_name()
    {
        await using var host = CreateHost();
        var (queue, admin) = (host.Queue, host.Admin);
        // Busy: q-c 3 (not due), q-B 2 (not due), q-a 2 (due, paused), q-d 1 (due); q-e paused without jobs. q-B and q-a tie:
        // by name, ordinal ('B' before 'a').
        foreach (var (name, count, due) in new[] { ("q-a", 2, true), ("q-B", 2, false), ("q-c", 3, false), ("q-d", 1, true) })
        {
            await queue.PushManyAsync(Enumerable.Range(0, count).Select(i => new AdminJob(i, name)),
                new JobOptions { Queue = name, DelayUntil = due ? null : Later });
        }

        await admin.PauseQueueAsync("q-a", "overview");
        await admin.PauseQueueAsync("q-e", "overview");

        var before = await admin.GetQueuesAsync();
        var overview = await admin.GetQueueOverviewAsync(3);
        var after = await admin.GetQueuesAsync();

        Assert.NotNull(overview);
        Assert.Equal(JobCounts.From(before.SelectMany(q => Enum.GetValues<JobState>().Select(s => KeyValuePair.Create(s, q.Counts[s])))), overview.Totals);
        Assert.Equal(8, overview.Totals.Pending);
        Assert.Equal(before.Count, overview.QueueCount);
        Assert.Equal(2, overview.PausedCount);
        Assert.InRange(overview.OldestWaitingAge!.Value, before.Max(q => q.OldestWaitingAge)!.Value, after.Max(q => q.OldestWaitingAge)!.Value);
        Assert.Equal(["q-c", "q-B", "q-a"], overview.Busiest.Select(q => q.Name));
        Assert.Equal(before.Where(q => q.Name is "q-c" or "q-B" or "q-a").OrderBy(q => q.Name, StringComparer.Ordinal).Select(q => q with { OldestWaitingAge = null }),
            overview.Busiest.OrderBy(q => q.Name, StringComparer.Ordinal).Select(q => q with { OldestWaitingAge = null }));
        Assert.NotNull(overview.Busiest.Single(q => q.Name == "q-a").OldestWaitingAge);

        // More asked than listed: every queue.
        var all = await admin.GetQueueOverviewAsync(1_000);
        Assert.Equal(before.Select(q => q.Name).Order(StringComparer.Ordinal), all!.Busiest.Select(q => q.Name).Order(StringComparer.Ordinal));
    }
}
