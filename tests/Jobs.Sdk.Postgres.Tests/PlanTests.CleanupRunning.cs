using Npgsql;
using NpgsqlTypes;

namespace Jobs.Sdk.Postgres.Tests;

/// <content>The plan of a cleanup's removal of running jobs (<see cref="CleanupSql.RemoveProcessing"/>), and what every cleanup batch's plan shares.</content>
public sealed partial class PlanTests
{
    /// <summary>
    /// 2,000 running jobs of a live worker, inserted after the statistics were taken: one batch marks them all, reading
    /// them through the state index, locking them by id and acting on them by <c>ctid</c>, never scanning the table (nor
    /// joining it by id, which may hash-join a scan of the whole table).
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
        Assert.DoesNotContain(plan.Nodes, n => n.Relation == "jobs" && n.Type == "Seq Scan");
        // The table read by TID, or by the lock's ids through the primary key (a bitmap scan of those rows alone).
        Assert.All(plan.Nodes.Where(n => n.Relation == "jobs" && n.Index is null), n => Assert.True(
            n.Type is "Tid Scan" or "ModifyTable" || (n.Type == "Bitmap Heap Scan" && n.ActualRows * n.Loops + n.RemovedByFilter <= 2000),
            $"The jobs table is read by a {n.Type}:\n{plan.Text}"));
        Assert.Equal(2000, plan.Nodes.Where(n => n.Type == "Tid Scan").Max(n => n.ActualRows));
        // Locked by id through the primary key, each of the batch's rows once.
        Assert.All(plan.Nodes.Where(n => n.Index == "jobs_pkey"), n => Assert.True(n.ActualRows * n.Loops == 2000 && n.RemovedByFilter == 0,
            $"the lock's {n.Type} of jobs_pkey read {n.ActualRows * n.Loops + n.RemovedByFilter} rows for a batch of 2000:\n{plan.Text}"));
    }

    /// <summary>
    /// A cleanup batch locks its rows by id through the primary key, each of the batch's rows once (no entry filtered out),
    /// and writes them through a TID scan.
    /// </summary>
    private static void AssertLockByIdAndTidScanOfOneBatch(Plan plan)
    {
        var write = Assert.Single(plan.Nodes, n => n.Type == "Tid Scan");
        Assert.Equal(CleanupSql.BatchSize, write.ActualRows);
        var locks = plan.Nodes.Where(n => n.Index == "jobs_pkey").ToList();
        Assert.NotEmpty(locks);
        Assert.All(locks, n => Assert.True(n.ActualRows * n.Loops == CleanupSql.BatchSize && n.RemovedByFilter == 0,
            $"the lock's {n.Type} of jobs_pkey read {n.ActualRows * n.Loops + n.RemovedByFilter} rows for a batch of {CleanupSql.BatchSize}:\n{plan.Text}"));
    }
}
