namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// <see cref="JobQueue.GetCountsByNameAsync"/> on a queue whose finished jobs grew after the table was last analyzed
/// (young): each batch reads its own batch of index entries, in an index's order from where the previous batch ended,
/// then those rows by id, whatever the statistics say. Planned on the young table's statistics, each batch looked its
/// rows' names up by reading the state's whole range of the queue's index and filtering it by the batch's ids (5,000
/// compared per entry): the work of one call grew with the square of the state's size. Observed as the index entries
/// the call read (<c>pg_stat_user_indexes</c>) and its sequential reads of the table (<c>pg_stat_user_tables</c>: a batch
/// planned to read the whole table reads no index), not timed.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class CountsByNameStaleStatisticsTests(PostgresFixture fixture)
{
    [Theory]
    [InlineData(false)] // each batch planned for its own arguments, on the young table's statistics
    [InlineData(true)] // Max Auto Prepare: the session's generic plans, built on the young table
    public async Task Counts_by_name_of_a_queue_grown_after_its_last_analyze_read_each_job_once(bool autoPrepare)
    {
        const int Young = 16;
        const int Settle = 8;
        const int Finished = 25_000;
        const int Waiting = 15_000;
        var schema = "countsname_" + Guid.NewGuid().ToString("N")[..8];
        await using var direct = fixture.CreateDataSource();
        // One pooled connection: the calls run on one server session (whose statistics are flushed before each reading).
        await using var ds = PlanTestSessions.OneSession(fixture, autoPrepare);
        try
        {
            await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<MessageJob>((_, _, _) => Task.CompletedTask),
                driver: o => o.Schema = schema, dataSource: ds);
            for (var i = 0; i < Young; i++)
            {
                await q.Queue.PushAsync(new MessageJob(i, "young"));
            }

            // The table analyzed young (as autovacuum does after its first rows), autovacuum then kept away until its next pass.
            await direct.ExecAsync($"ALTER TABLE {schema}.jobs SET (autovacuum_enabled = false); ANALYZE {schema}.jobs");
            for (var i = 0; i < Settle; i++)
            {
                await q.Queue.GetCountsByNameAsync();
            }

            // The queue grows: finished jobs kept by retention, in random id order (as pushed over time), and delayed ones.
            await direct.ExecAsync($"""
                INSERT INTO {schema}.jobs (id, queue_name, name, payload, state, attempts, finished_at, updated_at)
                SELECT gen_random_uuid(), '{q.Queue.QueueName}', '{MessageJob.JobName}', jsonb_build_object('id', g), {(short)JobState.Completed}, 1,
                    now() - g * interval '1 ms', now() - g * interval '1 ms'
                FROM generate_series(1, {Finished}) g;
                INSERT INTO {schema}.jobs (id, queue_name, name, payload, run_at)
                SELECT gen_random_uuid(), '{q.Queue.QueueName}', '{MessageJob.JobName}', jsonb_build_object('id', g), now() + interval '1 hour' + g * interval '1 ms'
                FROM generate_series(1, {Waiting}) g
                """);
            Assert.Equal(1, await direct.ScalarAsync($"""
                SELECT analyze_count + autoanalyze_count FROM pg_stat_user_tables WHERE schemaname = '{schema}' AND relname = 'jobs'
                """));

            // The session sends its statistics before each reading (JobsTableSeqReads), which counts the whole table's reads too.
            var seqBefore = await JobsTableSeqReads.ReadAsync(direct, schema, Young + Finished + Waiting, ds);
            var before = await IndexReads.ReadAsync(direct, schema);
            var counts = await q.Queue.GetCountsByNameAsync();
            var seqAfter = await JobsTableSeqReads.ReadAsync(direct, schema, Young + Finished + Waiting, ds);
            var after = await IndexReads.ReadAsync(direct, schema);

            var counted = counts.Sum(c => c.Counts.Pending + c.Counts.Completed);
            Assert.Equal(Young + Finished + Waiting, counted);
            var read = IndexReads.Difference(before, after);
            // A batch's ids from one index, then its rows by id (the primary key): each counted job's entries read once in
            // each, and a batch's worth of slack for the entry each walk's last batch stops at.
            var limit = 2L * counted + 2 * CountByNameSql.BatchSize;
            // ... and no batch reads the whole table instead (which no index read shows).
            Assert.True(read.Values.Sum() <= limit && read.Values.All(r => r <= counted + CountByNameSql.BatchSize) && seqAfter.Scans == seqBefore.Scans,
                $"GetCountsByNameAsync (auto-prepare: {autoPrepare}) on a queue of {Finished:N0} finished and {Waiting:N0} waiting jobs grown after the table was analyzed " +
                $"with {Young} counted {counted:N0} jobs and read {read.Values.Sum():N0} index entries (at most {limit:N0} expected: " +
                $"each job once from an index's walk, once by id): {IndexReads.Describe(read)}" +
                $"; and {seqAfter.Rows - seqBefore.Rows:N0} rows in {seqAfter.Scans - seqBefore.Scans} sequential scans of the table (none expected)");
        }
        finally
        {
            await direct.ExecAsync($"DROP SCHEMA IF EXISTS {schema} CASCADE");
        }
    }
}
