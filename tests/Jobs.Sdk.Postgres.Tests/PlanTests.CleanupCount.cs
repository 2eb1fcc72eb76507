using Npgsql;
using NpgsqlTypes;

namespace Jobs.Sdk.Postgres.Tests;

/// <content>
/// The plans of a cleanup's dry run (<see cref="CleanupSql.CountRemovable"/>) and of its removal's last batch: each
/// batch reads one bounded range of the state index, and no batch reads the rows younger than the cleanup's age.
/// </content>
public sealed partial class PlanTests
{
    private const string CountSchema = "jobs_plan_count";
    private const int OldRows = 20_000;   // completed 2 days ago and more, one millisecond apart
    private const int YoungRows = 20_000; // completed within the last minute

    private const string CountTypes = "text, smallint, double precision, timestamptz, integer";

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_cleanup_dry_run_counts_one_batch_per_statement_through_the_state_index(bool generic)
    {
        await using var ds = await CountSeededAsync();
        // The second batch: after the 5,000th oldest row.
        var after = await TimeAsync(ds, $"""
            SELECT updated_at FROM {CountSchema}.jobs WHERE queue_name = 'count' AND state = 3 ORDER BY updated_at OFFSET {CleanupSql.BatchSize - 1} LIMIT 1
            """);
        var plan = await ExplainCountAsync(ds, CleanupSql.CountRemovable(runnable: false), generic,
            Text("count"), Short((short)JobState.Completed), Double(TimeSpan.FromDays(1).TotalMilliseconds), Time(after), Int(CleanupSql.BatchSize));

        AssertOneBatchThrough(plan, "jobs_queue_state_idx");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_cleanup_dry_run_of_runnable_jobs_counts_one_batch_per_statement_through_the_runnable_index(bool generic)
    {
        // Queue idle: 50,000 delayed jobs of priority Higher (3). The first batch of that priority, any age.
        await using var ds = await SeededAsync();
        NpgsqlParameter[] arguments =
        [
            Text(Idle), Short((short)JobState.Pending), new NpgsqlParameter { Value = DBNull.Value, NpgsqlDbType = NpgsqlDbType.Double }, Short(3),
            new NpgsqlParameter { Value = DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz }, new NpgsqlParameter { Value = DBNull.Value, NpgsqlDbType = NpgsqlDbType.Uuid },
            Int(CleanupSql.BatchSize),
        ];
        var plan = generic
            ? await ExplainGenericAsync(ds, CleanupSql.CountRemovable(runnable: true), "text, smallint, double precision, smallint, timestamptz, uuid, integer",
                [("SELECT 1", [])], arguments)
            : await ExplainAsync(ds, CleanupSql.CountRemovable(runnable: true), [], arguments);

        AssertOneBatchThrough(plan, "jobs_runnable_idx");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task The_last_batch_of_a_cleanup_and_of_its_dry_run_reads_none_of_the_rows_younger_than_its_age(bool generic)
    {
        await using var ds = await CountSeededAsync();
        var last = await TimeAsync(ds, $"SELECT max(updated_at) FROM {CountSchema}.jobs WHERE queue_name = 'count' AND updated_at < now() - interval '1 day'");
        var count = await ExplainCountAsync(ds, CleanupSql.CountRemovable(runnable: false), generic,
            Text("count"), Short((short)JobState.Completed), Double(TimeSpan.FromDays(1).TotalMilliseconds), Time(last), Int(CleanupSql.BatchSize));
        // Queue young: only rows of the last minute; a removal of rows older than a day deletes none of them.
        var remove = generic
            ? await ExplainGenericAsync(ds, OnCountSchema(CleanupSql.Remove(runnable: false)), "text, smallint, double precision, integer, timestamptz", [("SELECT 1", [])],
                Text("young"), Short((short)JobState.Completed), Double(TimeSpan.FromDays(1).TotalMilliseconds), Int(CleanupSql.BatchSize), NoTime())
            : await ExplainAsync(ds, OnCountSchema(CleanupSql.Remove(runnable: false)), [],
                Text("young"), Short((short)JobState.Completed), Double(TimeSpan.FromDays(1).TotalMilliseconds), Int(CleanupSql.BatchSize), NoTime());

        foreach (var plan in new[] { count, remove })
        {
            Assert.Contains(plan.Nodes, n => n.Index == "jobs_queue_state_idx");
            Assert.DoesNotContain(plan.Nodes, n => n.Relation == "jobs" && n.Type == "Seq Scan");
            Assert.All(plan.Nodes.Where(n => n.Relation == "jobs"), n => Assert.True(n.ActualRows + n.RemovedByFilter == 0,
                $"a {n.Type} of {n.Index} read {n.ActualRows * n.Loops + n.RemovedByFilter} rows, none of which it may remove:\n{plan.Text}"));
        }
    }

    /// <summary>The statement on <see cref="CountSchema"/> (the helpers substitute <see cref="Schema"/>).</summary>
    private static string OnCountSchema(string sql) => sql.Replace("{s}", CountSchema, StringComparison.Ordinal);

    private static Task<Plan> ExplainCountAsync(NpgsqlDataSource ds, string sql, bool generic, params NpgsqlParameter[] parameters) => generic
        ? ExplainGenericAsync(ds, OnCountSchema(sql), CountTypes, [("SELECT 1", [])], parameters)
        : ExplainAsync(ds, OnCountSchema(sql), [], parameters);

    private static async Task<DateTime> TimeAsync(NpgsqlDataSource ds, string sql)
    {
        await using var command = ds.CreateCommand(sql);
        return (DateTime)(await command.ExecuteScalarAsync())!;
    }

    private static NpgsqlParameter Time(DateTime value) => new NpgsqlParameter<DateTime> { TypedValue = value, NpgsqlDbType = NpgsqlDbType.TimestampTz };

    /// <summary>A null timestamptz: a settled cleanup's first batch (no previous batch's last <c>updated_at</c>).</summary>
    private static NpgsqlParameter NoTime() => new() { Value = DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz };

    private static readonly SemaphoreSlim CountSeedLock = new(1, 1);
    private static bool s_countSeeded;

    /// <summary>Queue count: old and young completed rows; queue young: young completed rows only. Vacuumed and analyzed.</summary>
    private async Task<NpgsqlDataSource> CountSeededAsync()
    {
        var ds = fixture.CreateDataSource();
        await CountSeedLock.WaitAsync();
        try
        {
            if (!s_countSeeded)
            {
                await using (var driver = new PostgresJobDriver(ds, new PostgresJobDriverOptions { Schema = CountSchema }))
                {
                    await driver.WaitUntilReadyAsync(default);
                }

                await ds.ExecAsync($"""
                    ALTER TABLE {CountSchema}.jobs SET (autovacuum_enabled = false);
                    DELETE FROM {CountSchema}.jobs;
                    INSERT INTO {CountSchema}.jobs (id, queue_name, name, payload, state, attempts, finished_at, updated_at)
                    SELECT gen_random_uuid(), 'count', 'plan', jsonb_build_object(), 3, 1, t, t
                    FROM generate_series(1, {OldRows}) g, LATERAL (SELECT now() - interval '2 days' - g * interval '1 millisecond' AS t) a;
                    INSERT INTO {CountSchema}.jobs (id, queue_name, name, payload, state, attempts, finished_at, updated_at)
                    SELECT gen_random_uuid(), q, 'plan', jsonb_build_object(), 3, 1, t, t
                    FROM generate_series(1, {YoungRows}) g, (VALUES ('count'), ('young')) v(q),
                         LATERAL (SELECT now() - g * interval '1 millisecond' AS t) a;
                    """);
                await ds.ExecAsync($"VACUUM ANALYZE {CountSchema}.jobs");
                s_countSeeded = true;
            }
        }
        finally
        {
            CountSeedLock.Release();
        }

        return ds;
    }

    /// <summary>The plan reads one whole batch of <c>jobs</c> through <paramref name="index"/>, and no more, without a table scan.</summary>
    private static void AssertOneBatchThrough(Plan plan, string index)
    {
        Assert.Contains(plan.Nodes, n => n.Index == index);
        Assert.DoesNotContain(plan.Nodes, n => n.Relation == "jobs" && n.Type is "Seq Scan" or "Bitmap Heap Scan");
        Assert.All(plan.Nodes.Where(n => n.Relation == "jobs"), n => Assert.True(n.ActualRows * n.Loops + n.RemovedByFilter <= CleanupSql.BatchSize,
            $"a {n.Type} of {n.Index} read {n.ActualRows * n.Loops + n.RemovedByFilter} rows (a batch is {CleanupSql.BatchSize}):\n{plan.Text}"));
        Assert.Equal(CleanupSql.BatchSize, plan.Nodes.Where(n => n.Relation == "jobs").Max(n => n.ActualRows * n.Loops));
    }
}
