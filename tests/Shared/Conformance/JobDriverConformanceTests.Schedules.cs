using Jobs.Sdk.Drivers;
using Xunit;

namespace Jobs.Sdk.Testing;

/// <summary>
/// Scheduled pushes of unique jobs (<see cref="IJobScheduleStore.TryPushScheduledAsync"/> with a
/// <see cref="JobPushRecord.UniqueKey"/>): a fire stores its job only when no job of the queue holds the key, as
/// <see cref="IJobDriver.PushUniqueAsync"/> does, and the fire is recorded either way (exactly once per fire).
/// </summary>
public abstract partial class JobDriverConformanceTests
{
    private const string UniqueEntry = "unique-entry";

    private static IJobScheduleStore Store(IJobDriver d) => Assert.IsAssignableFrom<IJobScheduleStore>(d);

    private DateTimeOffset? _fireBase;

    /// <summary>Fire times an hour apart, on whole hours from the test's start (the store's prune window is a day).</summary>
    private DateTimeOffset Fire(int hour)
    {
        var now = _fireBase ??= Now;
        return new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, 0, 0, TimeSpan.Zero).AddHours(hour);
    }

    [Fact]
    public async Task A_scheduled_fire_of_a_held_unique_key_stores_no_job_and_records_the_fire()
    {
        var d = await DriverAsync();
        var holder = await d.PushUniqueAsync(Unique(1, "k"), null, default);

        var fire = Unique(2, "k");
        Assert.False(await Store(d).TryPushScheduledAsync(UniqueEntry, Fire(1), fire, default));
        Assert.Null(await d.GetJobAsync(fire.Id, default));
        Assert.Equal(1, (await d.GetCountsAsync(default)).Pending);
        Assert.Equal(Fire(1), await Store(d).GetLastFireTimeAsync(UniqueEntry, default));

        // A running holder holds too.
        await ClaimAsync(d, "w");
        Assert.False(await Store(d).TryPushScheduledAsync(UniqueEntry, Fire(2), Unique(3, "k"), default));
        Assert.Equal((0, 1), ((await d.GetCountsAsync(default)).Pending, (await d.GetCountsAsync(default)).Processing));
        Assert.Equal(new JobPushResult(holder.Id, false), await d.PushUniqueAsync(Unique(4, "k"), null, default));

        // Another key is not held.
        Assert.True(await Store(d).TryPushScheduledAsync(UniqueEntry, Fire(3), Unique(5, "k2"), default));
    }

    [Fact]
    public async Task A_scheduled_unique_job_holds_its_key_against_a_later_unique_push()
    {
        var d = await DriverAsync();
        var scheduled = Unique(1, "k");
        Assert.True(await Store(d).TryPushScheduledAsync(UniqueEntry, Fire(1), scheduled, default));

        Assert.Equal(new JobPushResult(scheduled.Id, false), await d.PushUniqueAsync(Unique(2, "k"), null, default));
        Assert.Equal(1, (await d.GetCountsAsync(default)).Pending);

        // ... and against the entry's next fire.
        Assert.False(await Store(d).TryPushScheduledAsync(UniqueEntry, Fire(2), Unique(3, "k"), default));
        Assert.Equal(1, (await d.GetCountsAsync(default)).Pending);
    }

    [Fact]
    public async Task UniqueFor_after_a_scheduled_job_finished_holds_against_the_next_fire()
    {
        var d = await DriverAsync(); // default retention: completed jobs are deleted (kept only for the hold)
        var first = Unique(1, "k", TimeSpan.FromHours(1));
        Assert.True(await Store(d).TryPushScheduledAsync(UniqueEntry, Fire(1), first, default));
        var job = Assert.Single(await ClaimAsync(d, "w"));
        await d.CompleteAsync("w", [Outcome(job.Id, JobOutcomeKind.Completed, 1)], default);

        var next = Unique(2, "k", TimeSpan.FromHours(1));
        Assert.False(await Store(d).TryPushScheduledAsync(UniqueEntry, Fire(2), next, default));
        Assert.Null(await d.GetJobAsync(next.Id, default));
        Assert.Equal(Fire(2), await Store(d).GetLastFireTimeAsync(UniqueEntry, default));
        Assert.Equal(new JobPushResult(first.Id, false), await d.PushUniqueAsync(Unique(3, "k", TimeSpan.FromHours(1)), null, default));
    }

    [Fact]
    public async Task Without_UniqueFor_a_finished_scheduled_job_releases_its_key_to_the_next_fire()
    {
        var d = await DriverAsync();
        Assert.True(await Store(d).TryPushScheduledAsync(UniqueEntry, Fire(1), Unique(1, "k"), default));
        var job = Assert.Single(await ClaimAsync(d, "w"));
        await d.CompleteAsync("w", [Outcome(job.Id, JobOutcomeKind.Completed, 1)], default);

        var next = Unique(2, "k");
        Assert.True(await Store(d).TryPushScheduledAsync(UniqueEntry, Fire(2), next, default));
        Assert.Equal(new JobPushResult(next.Id, false), await d.PushUniqueAsync(Unique(3, "k"), null, default));
    }

    [Fact]
    public async Task A_fire_that_found_its_key_held_is_recorded_once_and_never_pushed_later()
    {
        var d = await DriverAsync();
        var holder = await d.PushUniqueAsync(Unique(1, "k"), null, default);
        Assert.False(await Store(d).TryPushScheduledAsync(UniqueEntry, Fire(1), Unique(2, "k"), default));

        // The holder finishes and releases the key: a node retrying the held fire pushes nothing (it is recorded) ...
        var job = Assert.Single(await ClaimAsync(d, "w"));
        Assert.Equal(holder.Id, job.Id);
        await d.CompleteAsync("w", [Outcome(job.Id, JobOutcomeKind.Completed, 1)], default);
        var retry = Unique(3, "k");
        Assert.False(await Store(d).TryPushScheduledAsync(UniqueEntry, Fire(1), retry, default));
        Assert.Null(await d.GetJobAsync(retry.Id, default));
        Assert.Equal(0, (await d.GetCountsAsync(default)).Pending);

        // ... and the next fire pushes.
        Assert.True(await Store(d).TryPushScheduledAsync(UniqueEntry, Fire(2), Unique(4, "k"), default));
        Assert.Equal(1, (await d.GetCountsAsync(default)).Pending);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Concurrent_nodes_firing_a_unique_entry_record_each_fire_once_and_store_at_most_one_job(bool keyHeld)
    {
        var d = await DriverAsync();
        var holder = keyHeld ? await d.PushUniqueAsync(Unique(0, "k"), null, default) : (JobPushResult?)null;

        // Eight nodes fire the same time, each with its own job (id); then eight fire the next time, and unique pushes race them.
        for (var hour = 1; hour <= 2; hour++)
        {
            var fire = Fire(hour);
            var records = Enumerable.Range(0, 8).Select(i => Unique((hour * 10) + i, "k")).ToList();
            var pushes = records.Select(r => Task.Run(() => Store(d).TryPushScheduledAsync(UniqueEntry, fire, r, default))).ToList();
            var racing = Enumerable.Range(0, 4).Select(i => Task.Run(() => d.PushUniqueAsync(Unique(100 + i, "k"), null, default))).ToList();
            var stored = await Task.WhenAll(pushes);
            var raced = await Task.WhenAll(racing);

            Assert.True(stored.Count(s => s) <= 1, $"{stored.Count(s => s)} nodes stored the fire of hour {hour}");
            Assert.Equal(fire, await Store(d).GetLastFireTimeAsync(UniqueEntry, default));
            Assert.Equal(1, (await d.GetCountsAsync(default)).Pending);
            var holderId = Assert.Single(raced.Select(r => r.Id).Concat(holder is { } h ? [h.Id] : []).Distinct());
            if (keyHeld || hour == 2)
            {
                Assert.DoesNotContain(true, stored);
                Assert.DoesNotContain(raced, r => r.Inserted);
            }
            else
            {
                // The fire or one of the racing unique pushes stored the one job of the key.
                Assert.Equal(1, stored.Count(s => s) + raced.Count(r => r.Inserted));
                Assert.NotNull(await d.GetJobAsync(holderId, default));
            }
        }
    }
}
