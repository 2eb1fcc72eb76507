using Jobs.Sdk.Drivers;
using Npgsql;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// Migration 0018 (<see cref="ProcessingIndexMigration"/>): running rows move out of the key and state indexes into
/// <c>jobs_processing_idx</c>, built and dropped concurrently, outside a transaction, so no step blocks pushes and claims;
/// every statement can run again after a failure part-way. Each test runs in a database of its own: an index built or
/// dropped concurrently waits for every older transaction of its database (other tests' included).
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class ProcessingIndexMigrationTests(PostgresFixture fixture)
{
    private static readonly string[] ShapeIndexes = ["jobs_concurrency_key_idx", "jobs_processing_idx", "jobs_queue_state_idx"];

    [Fact]
    public async Task Keyed_jobs_in_flight_keep_their_lines_across_the_migration()
    {
        await using var database = await ScratchDatabase.CreateAsync(fixture, "procidx");
        await using var ds = database.CreateDataSource();
        var schema = await MigratedTo0017Async(ds);
        // As processes of 0017 left them: key 'a' (limit 1) has a job running and one waiting behind it (not admitted);
        // key 'b' (limit 2) one retrying and one paused ahead of a pending one; key 'c' only finished jobs and one pending.
        await ds.ExecAsync($"""
            INSERT INTO "{schema}".jobs (id, queue_name, name, payload, state, attempts, concurrency_key, concurrency_limit, key_seq, worker_id,
                lease_token, lease_expires_at, started_at, run_at, finished_at)
            SELECT gen_random_uuid(), 'q', v.name, jsonb_build_object(), v.state, CASE WHEN v.state = 1 THEN 1 ELSE 0 END, v.k, v.lim, nextval('"{schema}".jobs_key_seq'),
                CASE WHEN v.state = 1 THEN 'old-worker' END, CASE WHEN v.state = 1 THEN gen_random_uuid() END,
                CASE WHEN v.state = 1 THEN now() + interval '1 hour' END, CASE WHEN v.state = 1 THEN now() END,
                now() + CASE WHEN v.state = 2 THEN interval '1 hour' ELSE interval '0' END, CASE WHEN v.state IN (3, 4, 5) THEN now() END
            FROM (VALUES (1, 'a1', 1, 'a', 1), (2, 'a2', 0, 'a', 1), (3, 'b1', 2, 'b', 2), (4, 'b2', 6, 'b', 2), (5, 'b3', 0, 'b', 2),
                         (6, 'c1', 3, 'c', 1), (7, 'c2', 4, 'c', 1), (8, 'c3', 5, 'c', 1), (9, 'c4', 0, 'c', 1)) AS v(n, name, state, k, lim)
            ORDER BY v.n
            """);

        Assert.Equal([ProcessingIndexMigration.Name], await PostgresJobMigrations.ApplyAsync(ds, schema));
        await AssertNewShapeAsync(ds, schema);

        // New code: the running job of 'a' holds its key's only slot; 'b' has two unfinished jobs ahead of b3 (limit 2);
        // 'c' has room. Only c4 is claimable.
        await using var driver = new PostgresJobDriver(ds, new PostgresJobDriverOptions { Schema = schema, QueueName = "q" });
        await driver.WaitUntilReadyAsync(default);
        var first = await driver.ClaimAsync(new JobClaimRequest("new-worker", 10, TimeSpan.FromHours(1)), CancellationToken.None);
        Assert.Equal(["c4"], first.Select(j => j.Name));

        // A push behind the running job is not admitted (the line holds a1 and a2), and is not claimable either.
        await driver.PushAsync([new JobPushRecord { Id = JobId.New(), Name = "a3", Payload = "{}"u8.ToArray(), ConcurrencyKey = "a", ConcurrencyLimit = 1 }], null, default);
        Assert.Equal(0L, await ds.ScalarAsync($"SELECT count(*) FROM \"{schema}\".jobs WHERE name = 'a3' AND key_admitted IS NOT NULL"));
        Assert.Empty(await driver.ClaimAsync(new JobClaimRequest("new-worker", 10, TimeSpan.FromHours(1)), CancellationToken.None));

        // The old worker finishes a1: a2, the next of the line, is claimable, and only it (a3 waits behind it).
        await ds.ExecAsync($"UPDATE \"{schema}\".jobs SET state = 3, finished_at = now(), lease_token = NULL WHERE name = 'a1'");
        var next = await driver.ClaimAsync(new JobClaimRequest("new-worker", 10, TimeSpan.FromHours(1)), CancellationToken.None);
        Assert.Equal(["a2"], next.Select(j => j.Name));
    }

    [Fact]
    public async Task The_migration_waits_for_an_old_transaction_while_pushes_and_claims_go_on()
    {
        await using var database = await ScratchDatabase.CreateAsync(fixture, "procidx");
        await using var ds = database.CreateDataSource();
        var schema = await MigratedTo0017Async(ds);
        await using var blocker = await ConcurrentIndexWaitTests.OpenOldSnapshotAsync(ds);

        var migrate = PostgresJobMigrations.ApplyAsync(ds, schema, PostgresJobMigrations.GetMigrations(schema), TimeSpan.FromMilliseconds(200), default);
        await ConcurrentIndexWaitTests.WaitUntilBlockedByAsync(database, migrate, blocker.Connection.ProcessID);

        // A keyed push and a claim of it, each its own transaction, commit while the migration still waits.
        await ds.ExecAsync($"""
            INSERT INTO "{schema}".jobs (id, queue_name, name, payload, concurrency_key, concurrency_limit, key_seq)
            VALUES (gen_random_uuid(), 'q', 'during', jsonb_build_object(), 'k', 1, nextval('"{schema}".jobs_key_seq'))
            """);
        await ds.ExecAsync($"UPDATE \"{schema}\".jobs SET state = 1, attempts = 1, worker_id = 'w', lease_expires_at = now() + interval '1 hour' WHERE name = 'during'");
        Assert.Equal(1L, await ds.ScalarAsync($"SELECT count(*) FROM \"{schema}\".jobs WHERE name = 'during' AND state = 1"));
        Assert.False(migrate.IsCompleted, "the migration ended while the old transaction was still open");

        await blocker.Transaction.CommitAsync();
        Assert.Equal([ProcessingIndexMigration.Name], await migrate.WaitAsync(TimeSpan.FromSeconds(60)));
        await AssertNewShapeAsync(ds, schema);
        // The job claimed during the migration is in the new index (a concurrent build sees rows written while it waits).
        Assert.Equal(1L, await ds.ScalarAsync($"""
            SET enable_seqscan = off; SET enable_bitmapscan = off;
            SELECT count(*) FROM "{schema}".jobs WHERE queue_name = 'q' AND concurrency_key = 'k' AND state = 1
            """));
    }

    [Theory]
    [InlineData(3)] // the old key index dropped, the new one not yet renamed
    [InlineData(5)] // the narrowed state index's build failed part-way (left invalid)
    [InlineData(7)] // every statement ran, the migration's record did not
    public async Task A_rerun_after_a_failure_part_way_completes_the_new_shape(int statementsRun)
    {
        await using var database = await ScratchDatabase.CreateAsync(fixture, "procidx");
        await using var ds = database.CreateDataSource();
        var schema = await MigratedTo0017Async(ds);
        var statements = MigrationMarkers.Statements(ProcessingIndexMigration.Sql.Replace("{s}", $"\"{schema}\"", StringComparison.Ordinal)).ToList();
        Assert.Equal(7, statements.Count);
        foreach (var statement in statements.Take(statementsRun))
        {
            await ds.ExecAsync(statement);
        }

        if (statementsRun == 5)
        {
            // What a build cancelled or failed part-way leaves: the index exists, invalid (IF NOT EXISTS would accept it).
            await ds.ExecAsync($"""
                UPDATE pg_index SET indisvalid = false WHERE indexrelid = '"{schema}".jobs_queue_state_idx_0018'::regclass
                """);
        }

        Assert.Equal([ProcessingIndexMigration.Name], await PostgresJobMigrations.ApplyAsync(ds, schema));
        await AssertNewShapeAsync(ds, schema);
    }

    [Fact]
    public async Task Dropping_the_old_index_waits_for_a_transaction_reading_the_table_instead_of_failing_after_the_lock_timeout()
    {
        await using var database = await ScratchDatabase.CreateAsync(fixture, "procidx");
        await using var ds = database.CreateDataSource();
        var schema = await MigratedTo0017Async(ds);
        // The new indexes are built (a first run got that far); a report then reads the table and keeps its transaction open.
        var statements = MigrationMarkers.Statements(ProcessingIndexMigration.Sql.Replace("{s}", $"\"{schema}\"", StringComparison.Ordinal)).ToList();
        await ds.ExecAsync(statements[0]);
        await ds.ExecAsync(statements[1]);
        await using var reader = await ds.OpenConnectionAsync();
        await using var report = await reader.BeginTransactionAsync();
        await using (var read = new NpgsqlCommand($"SELECT count(*) FROM \"{schema}\".jobs WHERE concurrency_key = 'k'", reader, report))
        {
            await read.ExecuteScalarAsync();
        }

        // A lock timeout far below the wait: DROP INDEX CONCURRENTLY waits for the report's lock on the table.
        var migrate = PostgresJobMigrations.ApplyAsync(ds, schema, PostgresJobMigrations.GetMigrations(schema), TimeSpan.FromMilliseconds(200), default);
        await using (var observer = database.CreateDataSource())
        {
            await TestExtensions.EventuallyAsync(async () => migrate.IsCompleted || await observer.ScalarAsync($"""
                SELECT count(*) FROM pg_stat_activity a JOIN pg_locks l ON l.pid = a.pid AND NOT l.granted
                WHERE a.query LIKE 'DROP INDEX CONCURRENTLY%' AND {reader.ProcessID} = ANY (pg_blocking_pids(a.pid))
                  AND clock_timestamp() - l.waitstart > interval '1 second'
                """) > 0, 60, "the drop waits for the report past the lock timeout");
        }

        Assert.False(migrate.IsCompleted, migrate.Exception?.ToString() ?? "the migration ended while the report was still open");
        await report.CommitAsync();
        Assert.Equal([ProcessingIndexMigration.Name], await migrate.WaitAsync(TimeSpan.FromSeconds(60)));
        await AssertNewShapeAsync(ds, schema);
    }

    /// <summary>A schema of <paramref name="ds"/>'s database migrated up to 0017 (the migration before this one).</summary>
    private static async Task<string> MigratedTo0017Async(NpgsqlDataSource ds)
    {
        var schema = "procidx_" + Guid.NewGuid().ToString("N")[..10];
        var migrations = PostgresJobMigrations.GetMigrations(schema);
        var before = migrations.TakeWhile(m => m.Name != ProcessingIndexMigration.Name).ToList();
        Assert.Equal(DeleteRequestedMigration.Name, before[^1].Name);
        await PostgresJobMigrations.ApplyAsync(ds, schema, before, TimeSpan.FromSeconds(10), default);
        return schema;
    }

    /// <summary>
    /// The three indexes as a fresh install defines them (by name, valid, with the new predicates), and no index left
    /// under a temporary name.
    /// </summary>
    private static async Task AssertNewShapeAsync(NpgsqlDataSource ds, string schema)
    {
        var definitions = new List<string>();
        await using (var read = ds.CreateCommand($"""
            SELECT c.relname || ' ' || i.indisvalid || ' ' || replace(pg_get_indexdef(c.oid), '{schema}.', '')
            FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = '{schema}' AND i.indrelid = '"{schema}".jobs'::regclass
              AND (c.relname LIKE 'jobs\_processing%' OR c.relname LIKE 'jobs\_concurrency\_key%' OR c.relname LIKE 'jobs\_queue\_state%')
            ORDER BY c.relname
            """))
        await using (var reader = await read.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                definitions.Add(reader.GetString(0));
            }
        }

        Assert.Equal(
        [
            "jobs_concurrency_key_idx true CREATE INDEX jobs_concurrency_key_idx ON jobs USING btree (queue_name, concurrency_key, key_seq) WHERE ((concurrency_key IS NOT NULL) AND (state = ANY (ARRAY[0, 2, 6])))",
            "jobs_processing_idx true CREATE INDEX jobs_processing_idx ON jobs USING btree (queue_name, concurrency_key, key_seq, updated_at) WHERE (state = 1)",
            "jobs_queue_state_idx true CREATE INDEX jobs_queue_state_idx ON jobs USING btree (queue_name, state, updated_at) WHERE (state <> ALL (ARRAY[0, 1, 2]))",
        ], definitions);
        Assert.Equal(ShapeIndexes, definitions.Select(d => d.Split(' ')[0]));
    }
}
