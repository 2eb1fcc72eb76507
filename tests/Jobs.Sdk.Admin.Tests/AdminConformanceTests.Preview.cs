using Jobs.Sdk.Drivers;

namespace Jobs.Sdk.Admin.Tests;

// JobAdmin.PreviewAsync (the dry run of jobs retry/cancel/delete/run-now/priority): it counts what the action would change,
// by the action's own conditions, and changes nothing.
public abstract partial class AdminConformanceTests
{
    /// <summary>
    /// Every job of the store as its details read (any change, even to updated_at, shows). A job gone between the list and
    /// its read (run and removed by the host's workers once an action made it due) is left out, as gone.
    /// </summary>
    private static async Task<Dictionary<JobId, JobDetails>> DetailsAsync(JobAdmin admin)
    {
        var all = new Dictionary<JobId, JobDetails>();
        foreach (var summary in await ReadAllAsync(admin, new JobQuery { Limit = 500 }))
        {
            if (await admin.GetJobAsync(summary.Id) is { } details)
            {
                all[summary.Id] = details;
            }
        }

        return all;
    }

    private static bool SameRow(JobDetails a, JobDetails b) => a.State == b.State && a.Attempts == b.Attempts && a.MaxAttempts == b.MaxAttempts
        && a.Priority == b.Priority && a.RunAt == b.RunAt && a.UpdatedAt == b.UpdatedAt && a.CancelRequested == b.CancelRequested && a.DeleteRequested == b.DeleteRequested;

    [Theory]
    [InlineData(JobAdminActionKind.Retry, 2)]
    [InlineData(JobAdminActionKind.Cancel, 3)]
    [InlineData(JobAdminActionKind.Delete, 5)]
    [InlineData(JobAdminActionKind.RunNow, 3)]
    [InlineData(JobAdminActionKind.SetPriority, 3)]
    public async Task A_preview_counts_what_the_action_then_changes_and_changes_nothing(JobAdminActionKind kind, int expected)
    {
        await using var host = await CreateHost(workers: true).StartAsync();
        var (queue, admin) = (host.Queue, host.Admin);
        var failed = new List<JobId>();
        for (var i = 1; i <= 2; i++)
        {
            var id = await queue.PushAsync(new AdminJob(-i, "p"), new JobOptions { MaxAttempts = 1 });
            await Eventually.GetAsync(() => admin.GetJobAsync(id), j => j?.State == JobState.Failed, "the job failed");
            failed.Add(id);
        }

        await PushDelayedAsync(queue, 3, "p");
        var before = await DetailsAsync(admin);
        var action = new JobAdminAction(kind, Priority: JobPriority.Highest);
        var selection = JobSelection.Matching(new JobQuery { Queue = queue.QueueName });

        var preview = await admin.PreviewAsync(selection, action, sampleSize: 4);

        Assert.Equal(5, preview.Selected);
        Assert.Equal(expected, preview.WouldChange);
        Assert.Equal(Math.Min(expected, 4), preview.Sample.Count);
        var after = await DetailsAsync(admin);
        Assert.True(before.Count == after.Count && before.All(b => SameRow(b.Value, after[b.Key])), "a preview changed a job");
        Assert.Empty(await admin.GetAuditLogAsync());

        var changed = kind switch
        {
            JobAdminActionKind.Retry => await admin.RetryAsync(selection),
            JobAdminActionKind.Cancel => await admin.CancelAsync(selection),
            JobAdminActionKind.Delete => await admin.DeleteAsync(selection),
            JobAdminActionKind.RunNow => await admin.RunNowAsync(selection),
            _ => await admin.SetPriorityAsync(selection, JobPriority.Highest),
        };
        Assert.Equal(expected, changed);
        var now = await DetailsAsync(admin);
        var touched = before.Keys.Where(id => !now.TryGetValue(id, out var d) || !SameRow(before[id], d)).ToHashSet();
        Assert.Equal(expected, touched.Count);
        Assert.Subset(touched, preview.Sample.ToHashSet());
        if (kind == JobAdminActionKind.Retry)
        {
            Assert.Equal(failed.ToHashSet(), touched);
        }
    }

    [Fact]
    public async Task A_retry_preview_leaves_out_unique_jobs_whose_key_another_job_holds_as_the_retry_does()
    {
        await using var host = await CreateHost(workers: true).StartAsync();
        var (queue, admin) = (host.Queue, host.Admin);
        var unique = new JobOptions { UniqueKey = "account-9", MaxAttempts = 1 };
        async Task<JobId> FailedAsync(int value)
        {
            var pushed = await queue.TryPushAsync(new AdminJob(value, "u"), unique);
            Assert.True(pushed.Inserted);
            await Eventually.GetAsync(() => admin.GetJobAsync(pushed.Id), j => j?.State == JobState.Failed, "the unique job failed");
            return pushed.Id;
        }

        var first = await FailedAsync(-1);
        var second = await FailedAsync(-2);
        await queue.PauseQueueAsync(queue.QueueName);
        var waiting = await queue.TryPushAsync(new AdminJob(3, "u"), unique);
        Assert.True(waiting.Inserted);
        var retry = new JobAdminAction(JobAdminActionKind.Retry);
        var both = JobSelection.Ids([first, second]);

        // The waiting job holds the key: the retry would put neither back.
        var held = await admin.PreviewAsync(both, retry);
        Assert.Equal((2, 0), (held.Selected, held.WouldChange));
        Assert.Equal(0, await admin.RetryAsync(both));

        // The key free, only the first asked for would take it back (not both: one key, one job in line).
        Assert.Equal(1, await admin.CancelAsync(JobSelection.Ids([waiting.Id])));
        var free = await admin.PreviewAsync(both, retry);
        Assert.Equal(1, free.WouldChange);
        Assert.Equal([first], free.Sample);
        Assert.Equal(JobState.Failed, (await admin.GetJobAsync(first))!.State);
        Assert.Equal(1, await admin.RetryAsync(both));
        Assert.Equal(JobState.Pending, (await admin.GetJobAsync(first))!.State);
    }

    [Fact]
    public async Task A_preview_refuses_an_undefined_priority_and_sample_size()
    {
        await using var host = CreateHost();
        var all = JobSelection.Matching(new JobQuery());
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => host.Admin.PreviewAsync(all, new JobAdminAction(JobAdminActionKind.SetPriority, Priority: (JobPriority)99)));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => host.Admin.PreviewAsync(all, new JobAdminAction(JobAdminActionKind.Delete), sampleSize: -1));
    }
}
