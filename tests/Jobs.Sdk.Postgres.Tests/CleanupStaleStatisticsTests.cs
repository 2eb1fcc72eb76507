namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// A cleanup of a queue whose jobs grew after the table was last analyzed (young): each batch locks and changes the rows
/// it picked by their <c>ctid</c> (a TID scan), whatever the statistics say. Planned on the young table's statistics, the
/// statements that lock and delete a batch's rows by <c>ctid</c> and by queue and state may read the queue's range of a
/// queue index instead and filter it by the batch's <c>ctid</c>s, once per batch: a pass's work then grows with the
/// square of the state's size. Observed as the index entries the pass read (<c>pg_stat_user_indexes</c>), not timed.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class CleanupStaleStatisticsTests(PostgresFixture fixture)
{
    private const int Young = 16;
    private const int Settle = 8;
    private const int Finished = 30_000;
    private const int Pending = 20_000;
    private const int Retrying = 300;

    [Theory]
    [InlineData(false, false)] // the driver's own preparation: generic plans after five executions, built on the young table
    [InlineData(true, false)] // Max Auto Prepare
    [InlineData(false, true)] // the removed rows put back instead
    public async Task A_cleanup_of_a_queue_grown_after_its_last_analyze_reads_each_row_it_changes_once(bool autoPrepare, bool rerun)
    {
        var schema = "cleanupstale_" + Guid.NewGuid().ToString("N")[..8];
        await using var direct = fixture.CreateDataSource();
        // One pooled connection: the batches run on one server session (whose statistics are flushed before each reading).
        await using var ds = PlanTestSessions.OneSession(fixture, autoPrepare);
        await PostgresJobMigrations.ApplyAsync(direct, schema);
        try
        {
            var how = rerun ? CleanupAction.Rerun : CleanupAction.RemoveOlderThan(TimeSpan.FromDays(1));
            var options = new CleanupOptions { CompletedJobs = how, RetryingJobs = rerun ? CleanupAction.Rerun : CleanupAction.Remove };
            await using var driver = new PostgresJobDriver(ds, new PostgresJobDriverOptions { Schema = schema, QueueName = "q" });
            await driver.WaitUntilReadyAsync(CancellationToken.None);

            // A young queue: a few finished jobs, the table analyzed (as autovacuum does after its first rows), autovacuum
            // then kept away until its next pass; cleanups (of jobs older than a day: none) run on it meanwhile.
            await direct.ExecAsync($"""
                INSERT INTO {schema}.jobs (id, queue_name, name, payload, state, attempts, finished_at, updated_at)
                SELECT gen_random_uuid(), 'q', 'stale', jsonb_build_object('y', g), 3, 1, now(), now() FROM generate_series(1, {Young}) g;
                ALTER TABLE {schema}.jobs SET (autovacuum_enabled = false);
                ANALYZE {schema}.jobs;
                """);
            var settle = new CleanupOptions { CompletedJobs = CleanupAction.RemoveOlderThan(TimeSpan.FromDays(1)), RetryingJobs = CleanupAction.Remove };
            for (var i = 0; i < Settle; i++)
            {
                Assert.Equal(0, await driver.CleanupCountingAsync(settle, CancellationToken.None));
                await driver.CleanupCountingAsync(new CleanupOptions { CompletedJobs = CleanupAction.Rerun, RetryingJobs = CleanupAction.Rerun }, CancellationToken.None);
            }

            // The queue grows: finished jobs two days old, in random id order, and waiting and retrying ones.
            await direct.ExecAsync($"""
                INSERT INTO {schema}.jobs (id, queue_name, name, payload, state, attempts, finished_at, updated_at)
                SELECT gen_random_uuid(), 'q', 'stale', jsonb_build_object('f', g), 3, 1, t, t
                FROM generate_series(1, {Finished}) g, LATERAL (SELECT now() - interval '2 days' - g * interval '1 ms' AS t) a;
                INSERT INTO {schema}.jobs (id, queue_name, name, payload, state, attempts, run_at, updated_at)
                SELECT gen_random_uuid(), 'q', 'stale', jsonb_build_object('p', g), 0, 0, now() + interval '1 hour' + g * interval '1 ms', now()
                FROM generate_series(1, {Pending}) g;
                INSERT INTO {schema}.jobs (id, queue_name, name, payload, state, attempts, run_at, updated_at, last_error)
                SELECT gen_random_uuid(), 'q', 'stale', jsonb_build_object('r', g), 2, 1, now() + interval '1 hour' + g * interval '60 ms', now() - interval '2 days', 'boom'
                FROM generate_series(1, {Retrying}) g;
                """);
            Assert.Equal(1, await direct.ScalarAsync($"""
                SELECT analyze_count + autoanalyze_count FROM pg_stat_user_tables WHERE schemaname = '{schema}' AND relname = 'jobs'
                """));

            await ds.ExecAsync("SELECT pg_stat_force_next_flush()");
            var before = await IndexReads.ReadAsync(direct, schema);
            var removed = await driver.CleanupCountingAsync(options, CancellationToken.None);
            await ds.ExecAsync("SELECT pg_stat_force_next_flush()");
            var after = await IndexReads.ReadAsync(direct, schema);

            Assert.Equal(rerun ? 0 : Finished + Retrying, removed);
            Assert.Equal(rerun ? Pending + Finished + Retrying + Young : Pending + Young, await direct.ScalarAsync($"SELECT count(*) FROM {schema}.jobs"));
            var read = IndexReads.Difference(before, after);
            // The finished rows once from the state index (a rerun: every finished row, the young ones too), the queue's
            // runnable entries once, a batch's worth of slack for the entry each walk stops at; the rows changed are then
            // found by id (a removal's lock; a rerun's lock, keys and update), and written by ctid.
            var finished = rerun ? Finished + Young : Finished;
            var byId = (rerun ? 3L : 1L) * (finished + Retrying);
            var limit = finished + Pending + Retrying + byId + 3L * CleanupSql.BatchSize;
            Assert.True(read.Values.Sum() <= limit,
                $"A cleanup ({(rerun ? "rerun" : "remove")}, auto-prepare: {autoPrepare}) of {Finished:N0} finished and {Retrying} retrying jobs among {Pending:N0} pending ones, " +
                $"grown after the table was analyzed with {Young}, read {read.Values.Sum():N0} index entries (at most {limit:N0} expected: each row once from " +
                $"an index's walk, then by id): {IndexReads.Describe(read)}");
        }
        finally
        {
            await direct.ExecAsync($"DROP SCHEMA IF EXISTS {schema} CASCADE");
        }
    }
}
