using Npgsql;
using NpgsqlTypes;

namespace Jobs.Sdk.Postgres.Tests;

/// <content>The plan of a cleanup's removal of running jobs (<see cref="CleanupSql.RemoveProcessing"/>), and what every cleanup batch's plan shares.</content>
public sealed partial class PlanTests
{
    /// <summary>
    /// 2,000 running jobs of a live worker, inserted after the statistics were taken: one batch marks them all, reading
    /// them through the state index and acting on them by <c>ctid</c>, never scanning the table (nor joining it by id,
    /// which may hash-join a scan of the whole table).
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Cleanup_removal_of_running_jobs_acts_on_one_bounded_batch_through_the_state_index(bool generic)
    {
        await using var ds = await SeededAsync();
        var (_, _, setup) = HeldJobs("cleanup-running");
        var arguments = () => new[]
        {
            Text("cleanup-running"), new NpgsqlParameter { Value = DBNull.Value, NpgsqlDbType = NpgsqlDbType.Double }, Int(CleanupSql.BatchSize), Text(null),
        };
        var plan = generic
            ? await ExplainGenericAsync(ds, CleanupSql.RemoveProcessing, "text, double precision, integer, text", setup(), arguments())
            : await ExplainAsync(ds, CleanupSql.RemoveProcessing, [setup()], arguments());

        Assert.Contains(plan.Nodes, n => n.Index == "jobs_queue_state_idx");
        Assert.DoesNotContain(plan.Nodes, n => n.Relation == "jobs" && n.Type is "Seq Scan" or "Bitmap Heap Scan");
        Assert.All(plan.Nodes.Where(n => n.Relation == "jobs" && n.Index is null), n => Assert.True(n.Type is "Tid Scan" or "ModifyTable",
            $"The jobs table is read by a {n.Type}:\n{plan.Text}"));
        Assert.Equal(2000, plan.Nodes.Where(n => n.Type == "Tid Scan").Max(n => n.ActualRows));
    }

    /// <summary>A cleanup batch reads its rows through TID scans (its lock in id order, its write), each of the batch's rows.</summary>
    private static void AssertTidScansOfOneBatch(Plan plan)
    {
        var scans = plan.Nodes.Where(n => n.Type == "Tid Scan").ToList();
        Assert.Equal(2, scans.Count);
        Assert.All(scans, n => Assert.Equal(CleanupSql.BatchSize, n.ActualRows));
    }
}
