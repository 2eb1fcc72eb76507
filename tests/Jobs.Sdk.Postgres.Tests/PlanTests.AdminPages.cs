using Npgsql;
using NpgsqlTypes;

namespace Jobs.Sdk.Postgres.Tests;

/// <content>
/// A page of the admin's queue and schedule lists (AdminPageSql) beside 3,000 queues and 3,000 schedule entries: the
/// page's statements stop at their LIMIT, and only the page's queues and entries get their details read (the oldest
/// waiting job through the runnable index, the last fire through the fires' primary key), not every queue's or entry's.
/// Guards: they pass as written (AdminPageReadTests failed before the pages existed).
/// </content>
public sealed partial class PlanTests
{
    private const int PageQueues = 3_000;

    /// <summary>3,000 queues 'q-0001' to 'q-3000' with a due job each, and an entry of each with 10 fires (rolled back with the EXPLAIN).</summary>
    private static readonly (string Sql, NpgsqlParameter[] Parameters) PageSeed = ($"""
        INSERT INTO {"{s}"}.jobs (id, queue_name, name, payload, run_at)
        SELECT gen_random_uuid(), 'q-' || lpad(g::text, 4, '0'), 'plan', jsonb_build_object(), now() - interval '1 minute'
        FROM generate_series(1, {PageQueues}) g;
        INSERT INTO {"{s}"}.schedules (queue_name, entry_key, job_name, description, payload)
        SELECT 'q-' || lpad(g::text, 4, '0'), 'entry', 'plan', 'hourly', '{"{}"}' FROM generate_series(1, {PageQueues}) g;
        INSERT INTO {"{s}"}.schedule_fires (queue_name, entry_key, fire_time, job_id)
        SELECT 'q-' || lpad(g::text, 4, '0'), 'entry', date_trunc('hour', now()) - m * interval '1 hour', gen_random_uuid()
        FROM generate_series(1, {PageQueues}) g, generate_series(1, 10) m;
        ANALYZE {"{s}"}.job_state_counts;
        ANALYZE {"{s}"}.schedules;
        ANALYZE {"{s}"}.schedule_fires;
        """, []);

    [Fact]
    public async Task A_page_of_queue_names_stops_at_its_limit_and_reads_no_job()
    {
        await using var ds = await SeededAsync();
        var plan = await ExplainAsync(ds, AdminPageSql.QueueNames, [PageSeed], Text("q-0100"), Int(21));

        Assert.Equal(21, plan.Root.ActualRows);
        Assert.Contains(plan.Nodes, n => n.Type == "Limit" && n.ActualRows == 21);
        Assert.DoesNotContain(plan.Nodes, n => n.Relation == "jobs");
    }

    [Fact]
    public async Task The_details_of_a_page_of_20_queues_probe_the_indexes_for_those_20_only()
    {
        await using var ds = await SeededAsync();
        NpgsqlParameter Page() => Array(Enumerable.Range(101, 20).Select(i => $"q-{i:D4}").ToArray(), NpgsqlDbType.Text);

        var oldest = await ExplainAsync(ds, AdminPageSql.OldestWaitingOf, [PageSeed], Page());
        Assert.Equal(20, oldest.Root.ActualRows);
        var jobReads = oldest.Nodes.Where(n => n.Relation == "jobs").ToList();
        Assert.NotEmpty(jobReads);
        Assert.All(jobReads, n => Assert.Equal("jobs_runnable_idx", n.Index));
        Assert.All(jobReads, n => Assert.InRange(n.Loops, 1, 20 * 5)); // the page's queues x priorities

        var counts = await ExplainAsync(ds, AdminPageSql.CountsOf, [PageSeed], Page());
        Assert.Equal(20, counts.Root.ActualRows);
        Assert.All(counts.Nodes.Where(n => n.Relation == "job_state_counts"), n => Assert.InRange(n.ActualRows * Math.Max(n.Loops, 1), 0, 40));
    }

    [Fact]
    public async Task A_page_of_20_schedule_entries_reads_the_last_fire_of_those_20_only()
    {
        await using var ds = await SeededAsync();
        var plan = await ExplainAsync(ds, AdminPageSql.SchedulePage, [PageSeed], Text("q-0100"), Text("entry"), Int(20));

        Assert.Equal(20, plan.Root.ActualRows);
        Assert.Contains(plan.Nodes, n => n.Type == "Limit" && n.ActualRows == 20);
        var fires = Assert.Single(plan.Nodes, n => n.Relation == "schedule_fires");
        Assert.Equal("schedule_fires_pkey", fires.Index);
        Assert.Equal(20, fires.Loops);
    }
}
