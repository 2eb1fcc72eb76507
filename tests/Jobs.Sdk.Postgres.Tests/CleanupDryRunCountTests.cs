namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// A cleanup's dry run (<c>jobs cleanup --dry-run</c>) counts in batches, each its own transaction (issue 15), and counts
/// exactly what the cleanup run right after it removes, in every state, across batch edges: runnable jobs of several
/// priorities, read in claim order, with runs due at the same time; settled jobs whose last change shares one timestamp
/// across a batch edge; running jobs, of which one already being removed is neither counted nor removed again.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class CleanupDryRunCountTests(PostgresFixture fixture)
{
    [Fact]
    public async Task A_dry_run_counts_in_every_state_what_the_cleanup_then_removes_across_batch_edges()
    {
        var schema = "dry_" + Guid.NewGuid().ToString("N")[..10];
        await using var ds = fixture.CreateDataSource();
        await using var driver = new PostgresJobDriver(ds, new PostgresJobDriverOptions { Schema = schema, QueueName = "dry", UseListenNotify = false });
        await driver.WaitUntilReadyAsync(default);
        try
        {
            const string Old = "now() - interval '2 days'";
            await ds.ExecAsync($"""
                INSERT INTO {schema}.jobs (id, queue_name, name, payload, priority, run_at, updated_at)
                SELECT gen_random_uuid(), 'dry', 'plan', jsonb_build_object(), 3, now() + (g / 7) * interval '1 ms',
                       CASE WHEN g % 2 = 0 THEN {Old} ELSE now() END
                FROM generate_series(1, 12000) g;
                INSERT INTO {schema}.jobs (id, queue_name, name, payload, priority, run_at, updated_at)
                SELECT gen_random_uuid(), 'dry', 'plan', jsonb_build_object(), 1, now(), {Old} FROM generate_series(1, 300);
                INSERT INTO {schema}.jobs (id, queue_name, name, payload, state, attempts, run_at, updated_at)
                SELECT gen_random_uuid(), 'dry', 'plan', jsonb_build_object(), 2, 1, now() + interval '1 hour', {Old} FROM generate_series(1, 200);
                INSERT INTO {schema}.jobs (id, queue_name, name, payload, state, attempts, worker_id, lease_token, lease_expires_at, started_at,
                                           cancel_requested, delete_requested, updated_at)
                SELECT gen_random_uuid(), 'dry', 'plan', jsonb_build_object(), 1, 1, 'w', gen_random_uuid(),
                       CASE WHEN g <= 30 THEN now() - interval '1 minute' ELSE now() + interval '1 hour' END, {Old},
                       g > 80, g > 80, {Old}
                FROM generate_series(1, 100) g;
                INSERT INTO {schema}.jobs (id, queue_name, name, payload, state, attempts, finished_at, updated_at)
                SELECT gen_random_uuid(), 'dry', 'plan', jsonb_build_object(), 3, 1, t, t
                FROM generate_series(1, 11000) g, LATERAL (SELECT {Old} - (g / 3) * interval '1 second' AS t) a;
                INSERT INTO {schema}.jobs (id, queue_name, name, payload, state, attempts, finished_at, updated_at)
                SELECT gen_random_uuid(), 'dry', 'plan', jsonb_build_object(), 3, 1, now(), now() FROM generate_series(1, 500);
                INSERT INTO {schema}.jobs (id, queue_name, name, payload, state, attempts, finished_at, updated_at)
                SELECT gen_random_uuid(), 'dry', 'plan', jsonb_build_object(), s, 1, {Old}, {Old} FROM generate_series(1, 100), unnest(ARRAY[4, 5]::smallint[]) s;
                INSERT INTO {schema}.jobs (id, queue_name, name, payload, state, run_at, updated_at)
                SELECT gen_random_uuid(), 'dry', 'plan', jsonb_build_object(), 6, now(), {Old} FROM generate_series(1, 50);
                INSERT INTO {schema}.jobs (id, queue_name, name, payload, state, attempts, finished_at, updated_at)
                SELECT gen_random_uuid(), 'other', 'plan', jsonb_build_object(), 3, 1, {Old}, {Old} FROM generate_series(1, 1000);
                ANALYZE {schema}.jobs;
                """);
            var age = CleanupAction.RemoveOlderThan(TimeSpan.FromDays(1));
            var options = new CleanupOptions
            {
                PendingJobs = age, ProcessingJobs = age, RetryingJobs = age, CompletedJobs = age, FailedJobs = age, CancelledJobs = age, PausedJobs = age,
            };
            // Pending: 6,000 of priority 3 (6,000 more changed just now) and 300 of priority 1; retrying 200; running: 30 whose
            // lease ended and 50 of a live worker (20 more already being removed); completed 11,000 (500 more just now);
            // failed, cancelled 100 each; paused 50. Queue other is not this cleanup's.
            const long Removable = 6000 + 300 + 200 + 30 + 50 + 11000 + 100 + 100 + 50;

            var counted = await driver.CountCleanupAsync(options, CancellationToken.None);
            Assert.Equal(Removable, counted);
            Assert.Equal(12000 + 300 + 200 + 100 + 11500 + 200 + 50 + 1000, await ds.ScalarAsync($"SELECT count(*) FROM {schema}.jobs"));

            Assert.Equal(counted, await driver.CleanupCountingAsync(options, CancellationToken.None));
            Assert.Equal(6000 + 70 + 500 + 1000, await ds.ScalarAsync($"SELECT count(*) FROM {schema}.jobs"));
            Assert.Equal(0, await driver.CountCleanupAsync(options, CancellationToken.None));
        }
        finally
        {
            await ds.ExecAsync($"DROP SCHEMA {schema} CASCADE");
        }
    }
}
