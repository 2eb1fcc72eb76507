using Jobs.Sdk.Drivers;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// A scheduler's fire of a unique job releases the key's expired holder first (<see cref="UniqueJobSql.Release"/>, a
/// look-up by unique key), prepared with the fire. After five fires on one session PostgreSQL may switch it to a generic
/// plan built on the table's statistics of that moment, kept until the table is analyzed again: built while they said
/// the table was small, it must still read the unique key's index, not the whole table, once the queue has grown.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class UniqueFirePlanTests(PostgresFixture fixture)
{
    [Fact]
    public async Task Unique_fires_planned_on_a_young_queue_never_read_the_grown_jobs_table_with_a_sequential_scan()
    {
        const int Young = 16;
        const int Grown = 20_000;
        const int Fires = 20;
        var schema = "uniquefire_" + Guid.NewGuid().ToString("N")[..8];
        await using var direct = fixture.CreateDataSource();
        // One pooled connection: every fire runs on the same server session.
        await using var ds = fixture.CreateDataSource(b => b.MaxPoolSize = 1);
        try
        {
            await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<UniqueValueJob>((_, _, _) => Task.CompletedTask),
                driver: o => o.Schema = schema, dataSource: ds);
            IJobScheduleStore store = q.Driver;
            var fire = DateTimeOffset.UtcNow;
            var fired = 0;
            async Task FireAsync()
            {
                fired++;
                var job = new JobPushRecord
                {
                    Id = JobId.New(), Name = UniqueValueJob.JobName, Payload = "{\"value\":1}"u8.ToArray(), UniqueKey = $"fire-{fired}",
                    RunAt = DateTimeOffset.UtcNow,
                };
                Assert.Equal(ScheduledFireOutcome.Pushed, (await store.PushScheduledAsync("nightly", fire.AddMinutes(fired), job, CancellationToken.None)).Outcome);
            }

            // A young queue: a few unique jobs, the table analyzed at that size (as autovacuum does after its first
            // changed rows), and enough fires for the session to settle on a plan. Autovacuum is then kept away, as it is
            // until its next pass while the queue grows.
            for (var i = 0; i < Young; i++)
            {
                await q.Queue.TryPushAsync(new UniqueValueJob(i));
            }

            await direct.ExecAsync($"ALTER TABLE {schema}.jobs SET (autovacuum_enabled = false); ANALYZE {schema}.jobs");
            for (var i = 0; i < 8; i++)
            {
                await FireAsync();
            }

            await direct.ExecAsync($"""
                INSERT INTO {schema}.jobs (id, queue_name, name, payload, unique_key)
                SELECT gen_random_uuid(), '{q.Queue.QueueName}', '{UniqueValueJob.JobName}', jsonb_build_object('value', 1), 'grown-' || g FROM generate_series(1, {Grown}) g
                """);
            var before = await JobsTableSeqReads.ReadAsync(direct, schema, Young + 8 + Grown, ds);
            for (var i = 0; i < Fires; i++)
            {
                await FireAsync();
            }

            var after = await JobsTableSeqReads.ReadAsync(direct, schema, Young + 8 + Grown + Fires, ds);
            Assert.True(after.Rows - before.Rows < Grown,
                $"{Fires} unique fires on a table of {Grown:N0} jobs read {after.Rows - before.Rows:N0} rows in {after.Scans - before.Scans} sequential scans of it");
        }
        finally
        {
            await direct.ExecAsync($"DROP SCHEMA IF EXISTS {schema} CASCADE");
        }
    }
}
