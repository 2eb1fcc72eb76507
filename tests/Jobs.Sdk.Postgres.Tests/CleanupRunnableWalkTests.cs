using Npgsql;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// A cleanup of a queue's retrying jobs (or of its pending jobs older than an age) among many other runnable jobs: the
/// runnable index (<c>jobs_runnable_idx</c>) holds both states and every age in claim order, so a batch finds its rows
/// only by reading the others. The pass walks that index once, each batch from where the previous one ended, reading at
/// most a batch of entries: each batch read the queue's whole runnable range from its start, so a pass of two batches
/// over 300 retrying jobs behind 50,000 pending ones read 100,000 entries, and a pass of many batches read the range once
/// per batch. Observed as the index entries the pass read (<c>pg_stat_user_indexes</c>), not timed.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class CleanupRunnableWalkTests(PostgresFixture fixture)
{
    private const int Pending = 50_000;
    private const int Retrying = 300;

    public static TheoryData<string, bool> Cases => new()
    {
        { "remove-retrying", false }, { "remove-retrying", true },
        { "rerun-retrying", false }, { "rerun-retrying", true },
        { "remove-old-pending", false },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task A_cleanup_of_a_few_runnable_jobs_behind_many_pending_ones_walks_the_runnable_index_once(string action, bool autoPrepare)
    {
        var schema = "cleanupwalk_" + Guid.NewGuid().ToString("N")[..8];
        await using var direct = fixture.CreateDataSource();
        // One pooled connection: the batches run on one server session (whose statistics are flushed before each reading).
        await using var ds = PlanTestSessions.OneSession(fixture, autoPrepare);
        await PostgresJobMigrations.ApplyAsync(direct, schema);
        try
        {
            // 50,000 young delayed jobs over three priorities, and among them 300 retrying ones (or 300 pending ones
            // last changed two hours ago), each priority's in between its pending ones.
            var old = action == "remove-old-pending";
            await direct.ExecAsync($"""
                ALTER TABLE {schema}.jobs SET (autovacuum_enabled = false);
                INSERT INTO {schema}.jobs (id, queue_name, name, payload, state, attempts, priority, run_at, updated_at)
                SELECT gen_random_uuid(), 'q', 'walk', jsonb_build_object('g', g), 0, 0, (g % 3 + 1)::smallint,
                    now() + interval '1 hour' + g * interval '1 ms', now()
                FROM generate_series(1, {Pending}) g;
                INSERT INTO {schema}.jobs (id, queue_name, name, payload, state, attempts, priority, run_at, updated_at, last_error)
                SELECT gen_random_uuid(), 'q', 'walk', jsonb_build_object('r', g), {(old ? 0 : 2)}, {(old ? 0 : 1)}, (g % 3 + 1)::smallint,
                    now() + interval '1 hour' + g * {Pending / Retrying} * interval '1 ms', now() - interval '2 hours', {(old ? "NULL" : "'boom'")}
                FROM generate_series(1, {Retrying}) g;
                """);
            await direct.ExecAsync($"VACUUM ANALYZE {schema}.jobs");
            var options = action switch
            {
                "remove-retrying" => new CleanupOptions { RetryingJobs = CleanupAction.Remove },
                "rerun-retrying" => new CleanupOptions { RetryingJobs = CleanupAction.Rerun },
                _ => new CleanupOptions { PendingJobs = CleanupAction.RemoveOlderThan(TimeSpan.FromHours(1)) },
            };
            await using var driver = new PostgresJobDriver(ds, new PostgresJobDriverOptions { Schema = schema, QueueName = "q" });
            await driver.WaitUntilReadyAsync(CancellationToken.None);

            await ds.ExecAsync("SELECT pg_stat_force_next_flush()");
            var before = await IndexReads.ReadAsync(direct, schema);
            var removed = await driver.CleanupCountingAsync(options, CancellationToken.None);
            await ds.ExecAsync("SELECT pg_stat_force_next_flush()");
            var after = await IndexReads.ReadAsync(direct, schema);

            var rerun = action == "rerun-retrying";
            Assert.Equal(rerun ? 0 : Retrying, removed);
            Assert.Equal(Pending + (rerun ? Retrying : 0), await direct.ScalarAsync($"SELECT count(*) FROM {schema}.jobs WHERE state = 0"));
            Assert.Equal(rerun ? Pending + Retrying : Pending, await direct.ScalarAsync($"SELECT count(*) FROM {schema}.jobs"));
            var read = IndexReads.Difference(before, after);
            // One walk of the queue's runnable entries (a rerun's rows read once more where they went back), and a batch's
            // worth of slack for the entry each priority's last batch stops at.
            var limit = Pending + Retrying + (rerun ? Retrying : 0) + 2L * CleanupSql.BatchSize;
            Assert.True(read.Values.Sum() <= limit,
                $"A cleanup ({action}, auto-prepare: {autoPrepare}) of {Retrying} jobs among {Pending:N0} pending ones read {read.Values.Sum():N0} index entries " +
                $"(at most {limit:N0} expected: the queue's runnable entries once): {IndexReads.Describe(read)}");
        }
        finally
        {
            await direct.ExecAsync($"DROP SCHEMA IF EXISTS {schema} CASCADE");
        }
    }
}
