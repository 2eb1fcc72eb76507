using Jobs.Sdk.Drivers;
using Npgsql;
using NpgsqlTypes;

namespace Jobs.Sdk.Postgres.Tests;

/// <content>
/// The scheduler's statements beside 5,000 published entries with 60 fire records each (300,000 rows of
/// <c>schedule_fires</c>): a fire (the scheduler's tick) and the start-up read of every entry's last fire reach their rows
/// through the primary keys, never reading the other entries or their history. Guards: both pass as written.
/// </content>
public sealed partial class PlanTests
{
    private const int ScheduleEntries = 5_000;

    /// <summary>5,000 entries of queue 'sched', each with fires at the last 60 minutes (rolled back with the EXPLAIN).</summary>
    private static readonly (string Sql, NpgsqlParameter[] Parameters) ScheduleSeed = ($"""
        INSERT INTO {"{s}"}.schedules (queue_name, entry_key, job_name, description, payload)
        SELECT 'sched', 'entry-' || g, 'plan', 'every minute', '{"{}"}' FROM generate_series(1, {ScheduleEntries}) g;
        INSERT INTO {"{s}"}.schedule_fires (queue_name, entry_key, fire_time, job_id)
        SELECT 'sched', 'entry-' || g, date_trunc('minute', now()) - m * interval '1 minute', gen_random_uuid()
        FROM generate_series(1, {ScheduleEntries}) g, generate_series(1, 60) m;
        ANALYZE {"{s}"}.schedules;
        ANALYZE {"{s}"}.schedule_fires;
        """, []);

    [Fact]
    public async Task A_fire_among_5000_entries_reads_its_own_entry_through_the_primary_keys()
    {
        // Passes as written.
        await using var ds = await SeededAsync();
        var job = new JobPushRecord { Id = JobId.New(), Name = "plan", Payload = "{}"u8.ToArray(), RunAt = DateTimeOffset.UtcNow };
        NpgsqlParameter[] arguments =
        [
            .. JobRows.Push(job, [SqlParameters.Text("sched"), SqlParameters.Text("entry-42"), SqlParameters.Timestamp(DateTimeOffset.UtcNow)],
                SqlParameters.Text(null)),
            .. JobRows.Keys(job), SqlParameters.Text(null), SqlParameters.Double(0),
        ];
        var plan = await ExplainAsync(ds, ScheduleSql.TryPushScheduled, [ScheduleSeed], arguments);

        Assert.DoesNotContain(plan.Nodes, n => n.Type == "Seq Scan" && n.Relation is "schedules" or "schedule_fires");
        Assert.Contains(plan.Nodes, n => n.Index == "schedule_fires_pkey");
        Assert.Contains(plan.Nodes, n => n.Index == "schedules_pkey");
        // The entry's own fires only (60, the prune deletes none of them): 300,000 rows are in the table.
        Assert.All(plan.Nodes.Where(n => n.Relation is "schedules" or "schedule_fires"), n => Assert.InRange(n.ActualRows * Math.Max(n.Loops, 1), 0, 60));
        Assert.True(plan.Root.Buffers < 200, $"the fire touched {plan.Root.Buffers} buffers:\n{plan.Text}");
    }

    [Fact]
    public async Task The_last_fires_of_5000_entries_are_one_primary_key_probe_each()
    {
        await using var ds = await SeededAsync();
        var keys = Enumerable.Range(1, ScheduleEntries).Select(i => "entry-" + i).ToArray();
        var plan = await ExplainAsync(ds, ScheduleSql.GetLastFireTimes, [ScheduleSeed],
            SqlParameters.Text("sched"), SqlParameters.Array(keys, NpgsqlDbType.Text));

        Assert.Equal(ScheduleEntries, plan.Root.ActualRows);
        Assert.DoesNotContain(plan.Nodes, n => n.Type == "Seq Scan");
        var probe = Assert.Single(plan.Nodes, n => n.Index == "schedule_fires_pkey");
        Assert.Equal(ScheduleEntries, probe.Loops);
        Assert.Equal(1, probe.ActualRows); // per loop: the latest fire, not the entry's 60
    }
}
