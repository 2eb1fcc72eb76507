using Npgsql;
using NpgsqlTypes;

namespace Jobs.Sdk.Postgres.Tests;

/// <content>The plan of a cleanup's rerun of finished jobs (<see cref="CleanupSql.Rerun"/>, <see cref="UniqueRetrySql.PutBack"/>).</content>
public sealed partial class PlanTests
{
    /// <summary>
    /// 5,000 completed jobs finished after the statistics were taken (the planner believes the queue has none), put back
    /// in one batch: the rows it locked are matched to the rows it picked once each. Matched by a join of the two (each
    /// estimated at a row or two), the plan compared every locked row with every picked one, 12,497,500 comparisons (about
    /// four seconds) in every batch of 5,000, with the batch's rows locked meanwhile.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_cleanup_rerun_of_finished_jobs_matches_the_rows_it_locked_to_its_batch_once_each(bool generic)
    {
        await using var ds = await SeededAsync();
        const string Finished = """
            INSERT INTO {s}.jobs (id, queue_name, name, payload, state, attempts, finished_at, updated_at)
            SELECT gen_random_uuid(), 'rerun', 'plan', jsonb_build_object(), 3, 1, now() - interval '1 hour', now() - interval '1 hour'
            FROM generate_series(1, 5000)
            """;
        var arguments = () => new[]
        {
            Text("rerun"), Short((short)JobState.Completed), new NpgsqlParameter { Value = DateTimeOffset.UtcNow.AddDays(1), NpgsqlDbType = NpgsqlDbType.TimestampTz },
            Int(CleanupSql.BatchSize), NoTime(),
        };
        var plan = generic
            ? await ExplainGenericAsync(ds, CleanupSql.Rerun(runnable: false), "text, smallint, timestamptz, integer, timestamptz", [(Finished, [])], arguments())
            : await ExplainAsync(ds, CleanupSql.Rerun(runnable: false), [(Finished, [])], arguments());

        Assert.DoesNotContain(plan.Nodes, n => n.Relation == "jobs" && n.Type == "Seq Scan");
        Assert.All(plan.Nodes, n => Assert.True(n.RemovedByJoinFilter <= CleanupSql.BatchSize,
            $"a {n.Type} of a batch of {CleanupSql.BatchSize} rows removed {n.RemovedByJoinFilter:N0} rows by its join filter:\n{plan.Text}"));
    }
}
