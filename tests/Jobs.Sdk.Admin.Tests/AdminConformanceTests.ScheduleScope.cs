using Jobs.Sdk.Drivers;

namespace Jobs.Sdk.Admin.Tests;

// An operator's action on a schedule entry acts on the entry named (queue and key), no more, and a paused entry or one no
// running scheduler publishes any more is not triggered.
public abstract partial class AdminConformanceTests
{
    /// <summary>The queue of a second application of the store, whose cleanup entry has the same default key.</summary>
    private const string OtherApp = "admin-other-app";

    private static readonly Schedule Yearly = Schedule.Cron("0 0 1 1 *");

    private static readonly CleanupOptions Cleanup = new() { CompletedJobs = CleanupAction.RemoveOlderThan(TimeSpan.FromDays(7)) };

    /// <summary>What the scheduler of another application publishes for its queue <paramref name="queue"/>: entry <paramref name="entry"/>'s key.</summary>
    private static ScheduleRegistration SameKeyIn(ScheduleInfo entry, string queue) => new()
    {
        QueueName = queue, EntryKey = entry.EntryKey, JobName = entry.JobName, Description = entry.Schedule, Payload = "{}"u8.ToArray(),
        NextFireAt = entry.NextFireAt, TimeToLive = TimeSpan.FromMinutes(10),
    };

    [Fact]
    public async Task An_entry_key_two_queues_publish_is_listed_in_each_and_acted_on_only_in_the_queue_named()
    {
        // Two applications of one store each run AddCleanup on the same schedule: both entries are "jobs.cleanup@cron 0 0 1 1 * UTC".
        await using var host = await CreateHost(more: jobs => jobs.AddSchedule(s => s.AddCleanup(Cleanup, Yearly))).StartAsync();
        var admin = host.Admin;
        var mine = (await Eventually.GetAsync(() => admin.GetSchedulesAsync(), s => s.Count == 1, "the cleanup entry is published")).Single();
        await admin.Store.PublishSchedulesAsync([SameKeyIn(mine, OtherApp)], CancellationToken.None);

        var queues = new[] { host.Queue.QueueName, OtherApp }.Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(queues, (await admin.GetSchedulesAsync()).Where(e => e.EntryKey == mine.EntryKey).Select(e => e.QueueName));

        // The key alone names two entries: refused, naming the queues to choose from; nothing paused, pushed or resumed.
        foreach (var act in new Func<Task<int>>[]
        {
            () => admin.PauseScheduleAsync(mine.EntryKey), () => admin.TriggerScheduleAsync(mine.EntryKey), () => admin.ResumeScheduleAsync(mine.EntryKey),
        })
        {
            var refused = await Assert.ThrowsAsync<ArgumentException>(act);
            Assert.All(queues, q => Assert.Contains($"'{q}'", refused.Message, StringComparison.Ordinal));
        }

        Assert.All(await admin.GetSchedulesAsync(), e => Assert.False(e.IsPaused, $"{e.EntryKey} of queue {e.QueueName} was paused"));
        Assert.Empty((await admin.ListJobsAsync(new JobQuery())).Items);

        // Named with its queue: that entry alone.
        Assert.Equal(1, await admin.PauseScheduleAsync(OtherApp, mine.EntryKey, new AuditInfo("ops")));
        Assert.Equal([OtherApp], (await admin.GetSchedulesAsync()).Where(e => e.IsPaused).Select(e => e.QueueName));
        Assert.Equal(1, await admin.TriggerScheduleAsync(host.Queue.QueueName, mine.EntryKey, null));
        Assert.Equal([host.Queue.QueueName], (await admin.ListJobsAsync(new JobQuery())).Items.Select(j => j.QueueName));
        Assert.Equal($"{mine.EntryKey} (queue {host.Queue.QueueName})", (await admin.GetAuditLogAsync(1)).Single().Target);
        Assert.Equal(1, await admin.ResumeScheduleAsync(OtherApp, mine.EntryKey, null));
        Assert.All(await admin.GetSchedulesAsync(), e => Assert.False(e.IsPaused, $"{e.EntryKey} of queue {e.QueueName} is still paused"));

        // A queue that has no entry of the key: not found, naming the queues that have one.
        var wrong = await Assert.ThrowsAsync<ScheduleEntryNotFoundException>(() => admin.PauseScheduleAsync("admin-no-such-app", mine.EntryKey, null));
        Assert.Equal(("admin-no-such-app", mine.EntryKey), (wrong.QueueName, wrong.EntryKey));
        Assert.All(queues, q => Assert.Contains($"'{q}'", wrong.Message, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Triggering_a_paused_entry_pushes_nothing_and_says_how_to_resume_it()
    {
        await using var host = await CreateHost(more: jobs => jobs.AddSchedule(s => s.Add(new AdminJob(7, "scheduled"), Yearly, key: "paused-report"))).StartAsync();
        var admin = host.Admin;
        await Eventually.GetAsync(() => admin.GetSchedulesAsync(), s => s.Count == 1, "the entry is published");
        Assert.Equal(1, await admin.PauseScheduleAsync("paused-report"));

        var refused = await Assert.ThrowsAsync<ScheduleEntryPausedException>(() => admin.TriggerScheduleAsync("paused-report"));

        Assert.Contains("'paused-report'", refused.Message, StringComparison.Ordinal);
        Assert.Contains("is paused", refused.Message, StringComparison.Ordinal);
        Assert.Contains("ResumeScheduleAsync", refused.Message, StringComparison.Ordinal);
        Assert.Empty(await JobsNamedAsync(admin, AdminJob.JobName));
        Assert.True((await admin.GetSchedulesAsync()).Single().IsPaused);
    }

    [Fact]
    public async Task Triggering_an_entry_no_running_scheduler_publishes_any_more_pushes_nothing_and_names_the_entries_there_are()
    {
        // Workers with a 3 s lease: the entry's publication holds 3 s once its host stopped (a deploy removed it).
        await using var host = await CreateHost(workers: true, more: jobs => jobs.AddSchedule(s => s.Add(new AdminJob(7, "scheduled"), Yearly, key: "removed-report"))).StartAsync();
        var admin = host.Admin;
        var removed = (await Eventually.GetAsync(() => admin.GetSchedulesAsync(), s => s.Count == 1, "the entry is published")).Single();
        await host.StopAsync();
        await admin.Store.PublishSchedulesAsync([SameKeyIn(removed, host.Queue.QueueName) with { EntryKey = "live-report" }], CancellationToken.None);
        await Eventually.GetAsync(() => admin.GetSchedulesAsync(), s => s.Any(e => e.EntryKey == "removed-report" && e.IsStale), "the removed entry is stale");

        var refused = await Assert.ThrowsAsync<ScheduleEntryNotFoundException>(() => admin.TriggerScheduleAsync("removed-report"));

        Assert.Contains("'removed-report'", refused.Message, StringComparison.Ordinal);
        Assert.Contains("no running scheduler publishes it", refused.Message, StringComparison.Ordinal);
        Assert.Contains("'live-report'", refused.Message, StringComparison.Ordinal);
        Assert.Empty(await JobsNamedAsync(admin, AdminJob.JobName));
    }

    [Fact]
    public async Task An_action_on_a_key_no_entry_has_fails_naming_the_key_and_the_entries_there_are()
    {
        await using var host = await CreateHost(more: jobs => jobs.AddSchedule(s => s.Add(new AdminJob(7, "scheduled"), Yearly, key: "yearly-report"))).StartAsync();
        var admin = host.Admin;
        await Eventually.GetAsync(() => admin.GetSchedulesAsync(), s => s.Count == 1, "the entry is published");

        foreach (var act in new Func<Task<int>>[]
        {
            () => admin.TriggerScheduleAsync("yearly-reprot"), () => admin.PauseScheduleAsync("yearly-reprot"), () => admin.ResumeScheduleAsync("yearly-reprot"),
        })
        {
            var refused = await Assert.ThrowsAsync<ScheduleEntryNotFoundException>(act);
            Assert.Contains("'yearly-reprot'", refused.Message, StringComparison.Ordinal);
            Assert.Contains("'yearly-report'", refused.Message, StringComparison.Ordinal);
        }

        Assert.Empty(await JobsNamedAsync(admin, AdminJob.JobName));
        Assert.False((await admin.GetSchedulesAsync()).Single().IsPaused);
    }
}
