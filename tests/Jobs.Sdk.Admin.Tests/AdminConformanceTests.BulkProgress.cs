namespace Jobs.Sdk.Admin.Tests;

/// <summary>A bulk action given an <see cref="IProgress{T}"/> reports after each committed batch: batches, jobs walked, rows changed.</summary>
public abstract partial class AdminConformanceTests
{
    private sealed class Reports : IProgress<JobBulkProgress>
    {
        public List<JobBulkProgress> Seen { get; } = [];

        public void Report(JobBulkProgress value) => Seen.Add(value);
    }

    [Fact]
    public async Task A_bulk_action_reports_its_progress_after_each_batch()
    {
        await using var host = CreateHost();
        var ids = await PushDelayedAsync(host.Queue, 2 * JobAdmin.BatchSize + 500);

        var byQuery = new Reports();
        Assert.Equal(ids.Count, await host.Admin.RunNowAsync(JobSelection.Matching(new JobQuery { Queue = host.Queue.QueueName }), null, byQuery));
        Assert.Equal([new(1, 1000, 1000), new(2, 2000, 2000), new(3, 2500, 2500)], byQuery.Seen);

        // By ids, with some the action skips (already cancelled): walked counts them, changed does not.
        await host.Admin.CancelAsync(JobSelection.Ids(ids.Take(10).ToArray()));
        var byIds = new Reports();
        Assert.Equal(ids.Count - 10, await host.Admin.CancelAsync(JobSelection.Ids(ids), new AuditInfo("alice", "progress"), byIds));
        Assert.Equal([new(1, 1000, 990), new(2, 2000, 1990), new(3, 2500, 2490)], byIds.Seen);
        Assert.Equal("JobBulkProgress { BatchesDone = 3, JobsWalked = 2500, RowsChanged = 2490 }", byIds.Seen[^1].ToString());
        Assert.Equal(ids.Count - 10, (await host.Admin.GetAuditLogAsync(1)).Single().RowsChanged);
    }
}
