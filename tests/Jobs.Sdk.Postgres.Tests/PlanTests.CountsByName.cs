using Npgsql;
using NpgsqlTypes;

namespace Jobs.Sdk.Postgres.Tests;

/// <content>
/// The plans of <see cref="JobQueue.GetCountsByNameAsync"/>'s batches (<see cref="CountByNameSql"/>): each reads one
/// bounded range of an index of the queue, never the table; the running jobs' count reads only running rows. (One
/// statement over queue busy read its 100,100 rows at once.)
/// </content>
public sealed partial class PlanTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Counts_by_name_of_finished_jobs_read_one_batch_per_statement_through_the_admin_list_index(bool generic)
    {
        // Queue busy: 50,000 completed jobs. The second batch: before the 5,000th highest id.
        await using var ds = await SeededAsync();
        var after = await GuidAsync(ds, $"""
            SELECT id FROM {Schema}.jobs WHERE queue_name = '{Busy}' AND state = 3 ORDER BY id DESC OFFSET {CountByNameSql.BatchSize - 1} LIMIT 1
            """);
        NpgsqlParameter[] arguments = [Text(Busy), Short((short)JobState.Completed), Id(after), Int(CountByNameSql.BatchSize)];
        var plan = generic
            ? await ExplainGenericAsync(ds, CountByNameSql.Settled, "text, smallint, uuid, integer", ("SELECT 1", []), arguments)
            : await ExplainAsync(ds, CountByNameSql.Settled, arguments);

        AssertOneCountBatchThrough(plan, "jobs_admin_list_idx");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Counts_by_name_of_waiting_jobs_read_one_batch_per_statement_through_the_runnable_index(bool generic)
    {
        // Queue busy: 50,000 delayed jobs of priority Higher (3). The second batch of that priority.
        await using var ds = await SeededAsync();
        var after = await GuidAsync(ds, $"""
            SELECT id FROM {Schema}.jobs WHERE queue_name = '{Busy}' AND state IN (0, 2) AND priority = 3
            ORDER BY run_at, id OFFSET {CountByNameSql.BatchSize - 1} LIMIT 1
            """);
        var runAt = await TimeAsync(ds, $"SELECT run_at FROM {Schema}.jobs WHERE id = '{after}'");
        NpgsqlParameter[] arguments = [Text(Busy), Short((short)JobPriority.Higher), Time(runAt), Id(after), Int(CountByNameSql.BatchSize)];
        var plan = generic
            ? await ExplainGenericAsync(ds, CountByNameSql.Runnable, "text, smallint, timestamptz, uuid, integer", ("SELECT 1", []), arguments)
            : await ExplainAsync(ds, CountByNameSql.Runnable, arguments);

        AssertOneCountBatchThrough(plan, "jobs_runnable_idx");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Counts_by_name_of_running_jobs_read_only_the_running_rows(bool generic)
    {
        // Queue busy runs nothing: the count reads none of its 100,100 rows.
        await using var ds = await SeededAsync();
        var plan = generic
            ? await ExplainGenericAsync(ds, CountByNameSql.Running, "text", ("SELECT 1", []), Text(Busy))
            : await ExplainAsync(ds, CountByNameSql.Running, Text(Busy));

        Assert.Contains(plan.Nodes, n => n.Index == "jobs_queue_state_idx");
        Assert.DoesNotContain(plan.Nodes, n => n.Relation == "jobs" && n.Type == "Seq Scan");
        Assert.All(plan.Nodes.Where(n => n.Relation == "jobs"), n => Assert.True(n.ActualRows + n.RemovedByFilter == 0,
            $"a {n.Type} of {n.Index} read {n.ActualRows * n.Loops + n.RemovedByFilter} rows, none of them running:\n{plan.Text}"));
    }

    /// <summary>
    /// The batch's ids come from an index-only scan of <paramref name="index"/>, in its order, stopping at the batch size;
    /// no node reads more rows of <c>jobs</c> than a batch (the names, by id), none the whole table. (A bitmap scan of the
    /// primary key for the batch's ids is not counted: it also returns the dead versions of those rows that the plan
    /// tests' rolled-back writes leave in this unvacuumed table; its heap scan returns the rows.)
    /// </summary>
    private static void AssertOneCountBatchThrough(Plan plan, string index)
    {
        Assert.Contains(plan.Nodes, n => n.Index == index && n.Type == "Index Only Scan");
        Assert.DoesNotContain(plan.Nodes, n => n.Relation == "jobs" && n.Type == "Seq Scan");
        var reads = plan.Nodes.Where(n => n.Relation == "jobs").ToList();
        Assert.All(reads, n => Assert.True(n.ActualRows * n.Loops + n.RemovedByFilter <= CountByNameSql.BatchSize,
            $"a {n.Type} of {n.Index} read {n.ActualRows * n.Loops + n.RemovedByFilter} rows (a batch is {CountByNameSql.BatchSize}):\n{plan.Text}"));
        Assert.Equal(CountByNameSql.BatchSize, reads.Max(n => n.ActualRows * n.Loops));
    }

    private static async Task<Guid> GuidAsync(NpgsqlDataSource ds, string sql)
    {
        await using var command = ds.CreateCommand(sql);
        return (Guid)(await command.ExecuteScalarAsync())!;
    }

    private static NpgsqlParameter Id(Guid value) => new NpgsqlParameter<Guid> { TypedValue = value, NpgsqlDbType = NpgsqlDbType.Uuid };
}
