namespace Jobs.Sdk.Postgres.Tests;

/// <content>
/// The dashboard overview's summary of the queue list (AdminOverviewSql) beside 3,000 queues: the busiest queues' names
/// stop at their LIMIT without reading a job, and the oldest waiting job is one row, read through the runnable index (one
/// probe per queue with due-able jobs and priority, as the whole list reads it: on the server, not sent). Guards: they pass
/// as written (DashboardOverviewReadTests failed before the summary existed).
/// </content>
public sealed partial class PlanTests
{
    [Fact]
    public async Task The_overviews_busiest_queues_stop_at_their_limit_and_read_no_job()
    {
        await using var ds = await SeededAsync();
        var plan = await ExplainAsync(ds, AdminOverviewSql.Busiest, [PageSeed], Int(50));

        Assert.Equal(50, plan.Root.ActualRows);
        Assert.Contains(plan.Nodes, n => n.Type == "Limit" && n.ActualRows == 50);
        Assert.DoesNotContain(plan.Nodes, n => n.Relation == "jobs");
    }

    [Fact]
    public async Task The_overviews_oldest_waiting_job_is_one_row_read_through_the_runnable_index()
    {
        await using var ds = await SeededAsync();
        var plan = await ExplainAsync(ds, AdminOverviewSql.OldestWaiting, [PageSeed]);

        Assert.Equal(1, plan.Root.ActualRows);
        var jobReads = plan.Nodes.Where(n => n.Relation == "jobs").ToList();
        Assert.NotEmpty(jobReads);
        Assert.All(jobReads, n => Assert.Equal("jobs_runnable_idx", n.Index));
        Assert.All(jobReads, n => Assert.InRange(n.Loops, 1, (PageQueues + 10) * 5)); // the queues with due-able jobs (the seed's and a few of the fixture's) x priorities
    }
}
