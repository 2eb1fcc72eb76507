namespace Jobs.Sdk.Admin.Tests;

// A bulk action by filters acts on the jobs that matched when it started: jobs pushed while its batches run match the
// filters too, and an action that took them in would never end on a queue pushed to faster than it works.
public abstract partial class AdminConformanceTests
{
    public static TheoryData<string> BoundedActions => ["cancel", "delete"];

    [Theory]
    [MemberData(nameof(BoundedActions))]
    public async Task A_bulk_action_by_filters_leaves_the_jobs_pushed_while_it_runs(string action)
    {
        await using var host = await CreateHost(workers: false).StartAsync();
        var (admin, store) = Interleaved(host);
        // One more job than a batch: the action finds a second batch after the first, as it does on a large queue.
        var before = await PushDelayedAsync(host.Queue, JobAdmin.BatchSize + 1, "bound");
        IReadOnlyList<JobId> during = [];
        store.AfterFind = async _ =>
        {
            if (during.Count == 0)
            {
                during = await PushDelayedAsync(host.Queue, 3, "bound", JobAdmin.BatchSize + 1); // pushed by the application meanwhile
            }
        };
        var selection = JobSelection.Matching(new JobQuery { Queue = host.Queue.QueueName, Names = [AdminJob.JobName] });

        var changed = action == "cancel" ? await admin.CancelAsync(selection) : await admin.DeleteAsync(selection);

        var late = new List<string>();
        foreach (var id in during)
        {
            late.Add($"{id}: {(await StateAsync(host, id))?.ToString() ?? "deleted"}");
        }

        Assert.True(changed == before.Count && late.All(s => s.EndsWith(": Pending", StringComparison.Ordinal)),
            $"The bulk {action} of the {before.Count} jobs matching when it started changed {changed}; the 3 pushed while it ran are {string.Join(", ", late)}.");
        Assert.Equal(action == "cancel" ? JobState.Cancelled : null, await StateAsync(host, before[^1]));
    }
}
