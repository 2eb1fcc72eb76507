namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// A cleanup of many finished jobs while another session holds an older snapshot (a long report, <c>pg_dump</c>, a
/// replica's <c>hot_standby_feedback</c>): the index entries of the rows a batch deleted stay until that snapshot ends
/// (no batch may mark them dead), and each batch reads on from where the previous one ended, never through them again.
/// A batch that started each time at its state's oldest entry read every entry the pass had deleted so far: a pass's
/// work grew with the square of the rows it removed. Observed as the index entries the pass read (<c>pg_stat_user_indexes</c>), not timed.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class CleanupHeldSnapshotTests(PostgresFixture fixture)
{
    private const int Finished = 40_000;

    [Theory]
    [InlineData(false)] // any age
    [InlineData(true)] // older than a day
    public async Task A_cleanup_of_finished_jobs_beside_an_older_snapshot_reads_each_deleted_row_once(bool olderThan)
    {
        var schema = "cleanupsnap_" + Guid.NewGuid().ToString("N")[..8];
        await using var direct = fixture.CreateDataSource();
        await using var ds = PlanTestSessions.OneSession(fixture, autoPrepare: false);
        await PostgresJobMigrations.ApplyAsync(direct, schema);
        try
        {
            await direct.ExecAsync($"""
                ALTER TABLE {schema}.jobs SET (autovacuum_enabled = false);
                INSERT INTO {schema}.jobs (id, queue_name, name, payload, state, attempts, finished_at, updated_at)
                SELECT gen_random_uuid(), 'q', 'snap', jsonb_build_object('f', g), 3, 1, t, t
                FROM generate_series(1, {Finished}) g, LATERAL (SELECT now() - interval '2 days' - g * interval '1 ms' AS t) a;
                """);
            await direct.ExecAsync($"VACUUM ANALYZE {schema}.jobs");
            await using var driver = new PostgresJobDriver(ds, new PostgresJobDriverOptions { Schema = schema, QueueName = "q" });
            await driver.WaitUntilReadyAsync(CancellationToken.None);

            // Another session's snapshot, older than every batch of the pass.
            await using var report = await direct.OpenConnectionAsync();
            await using var held = await report.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead);
            await using (var count = new Npgsql.NpgsqlCommand($"SELECT count(*) FROM {schema}.jobs", report, held))
            {
                Assert.Equal(Finished, (long)(await count.ExecuteScalarAsync())!);
            }

            await ds.ExecAsync("SELECT pg_stat_force_next_flush()");
            var before = await IndexReads.ReadAsync(direct, schema);
            var options = new CleanupOptions { CompletedJobs = olderThan ? CleanupAction.RemoveOlderThan(TimeSpan.FromDays(1)) : CleanupAction.Remove };
            var removed = await driver.CleanupCountingAsync(options, CancellationToken.None);
            await ds.ExecAsync("SELECT pg_stat_force_next_flush()");
            var after = await IndexReads.ReadAsync(direct, schema);
            await held.RollbackAsync();

            Assert.Equal(Finished, removed);
            Assert.Equal(0, await direct.ScalarAsync($"SELECT count(*) FROM {schema}.jobs"));
            var read = IndexReads.Difference(before, after);
            // Each row once from the state index and once by id (its lock), and a batch's worth of slack.
            var limit = 2L * Finished + CleanupSql.BatchSize;
            Assert.True(read.Values.Sum() <= limit,
                $"A cleanup (remove{(olderThan ? " older than a day" : "")}) of {Finished:N0} finished jobs beside another session's older snapshot read " +
                $"{read.Values.Sum():N0} index entries (at most {limit:N0} expected: each row once from the state index, once by id): {IndexReads.Describe(read)}");
        }
        finally
        {
            await direct.ExecAsync($"DROP SCHEMA IF EXISTS {schema} CASCADE");
        }
    }
}
