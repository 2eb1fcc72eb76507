using Jobs.Sdk.Drivers;
using Npgsql;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// Outcomes that remove their job (retention keeps none of its kind, the default for completed jobs) are written by a
/// <c>DELETE</c> that takes no row lock first (issue 15): one WAL record per job instead of two, and the same ownership,
/// unique-hold and lock-order guarantees as the locking outcome write.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class RemovingOutcomeTests(PostgresFixture fixture)
{
    private static readonly TimeSpan Minute = TimeSpan.FromMinutes(1);

    [Fact]
    public async Task Completing_jobs_that_retention_removes_writes_their_deletes_and_no_row_lock()
    {
        // A schema of its own: its table's file number picks this test's WAL records out of everything the server writes.
        const string Schema = "jobs_removing_wal";
        const int Jobs = 40;
        await using var q = await TestQueue.CreateAsync(fixture, b => { }, driver: o => o.Schema = Schema);
        var ds = q.DataSource;
        await ds.ExecAsync("CREATE EXTENSION IF NOT EXISTS pg_walinspect");
        await q.Queue.PushManyAsync(Enumerable.Range(0, Jobs).Select(i => new ValueJob(i)));
        var claimed = await q.Driver.ClaimAsync(new JobClaimRequest("w", Jobs, Minute), CancellationToken.None);
        Assert.Equal(Jobs, claimed.Count);

        var start = await TextAsync(ds, "SELECT pg_current_wal_insert_lsn()::text");
        await q.Driver.CompleteAsync("w", claimed.Select(c => new JobOutcome(c.Id, JobOutcomeKind.Completed, c.Attempt, LeaseToken: c.LeaseToken)).ToList(),
            CancellationToken.None);

        Assert.Equal(0, (await q.Queue.GetCountsAsync()).Processing);
        Assert.Equal(0, await ds.ScalarAsync($"SELECT count(*) FROM {Schema}.jobs"));
        var records = new Dictionary<string, long>();
        await using (var command = ds.CreateCommand($"""
            SELECT record_type, count(*) FROM pg_get_wal_records_info('{start}'::pg_lsn, pg_current_wal_flush_lsn())
            WHERE resource_manager = 'Heap' AND block_ref LIKE '%/' || pg_relation_filenode('{Schema}.jobs') || ' fork%'
            GROUP BY record_type
            """))
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                records[reader.GetString(0)] = reader.GetInt64(1);
            }
        }

        var summary = string.Join(", ", records.Select(r => $"{r.Key} {r.Value}"));
        Assert.True(records.GetValueOrDefault("DELETE") == Jobs, $"one delete per job expected; heap records on the jobs table: {summary}");
        Assert.True(!records.ContainsKey("LOCK"), $"the completion locked rows before deleting them; heap records on the jobs table: {summary}");
    }

    [Fact]
    public async Task A_custom_plan_of_a_batch_of_a_thousand_finds_each_row_by_key_and_never_reads_the_whole_table()
    {
        // 5,000 held rows, analyzed; 1,000 of them removed, the arguments bound (a custom plan, as each connection runs
        // its first few executions of a prepared statement). Sized from the arrays, the planner hashed a sequential scan
        // of the whole table to join the rows by ctid.
        const string Schema = "jobs_removing_plan";
        await using var q = await TestQueue.CreateAsync(fixture, b => { }, driver: o => o.Schema = Schema);
        var ds = q.DataSource;
        await ds.ExecAsync($"""
            TRUNCATE {Schema}.jobs;
            INSERT INTO {Schema}.jobs (id, queue_name, name, payload, state, attempts, worker_id, lease_token, lease_expires_at, started_at)
            SELECT gen_random_uuid(), 'plan', 'plan', jsonb_build_object(), 1, 1, 'w', gen_random_uuid(), now() + interval '1 minute', now()
            FROM generate_series(1, 5000);
            ANALYZE {Schema}.jobs;
            """);
        var ids = new List<Guid>();
        var tokens = new List<Guid>();
        await using (var pick = ds.CreateCommand($"SELECT id, lease_token FROM {Schema}.jobs ORDER BY random() LIMIT 1000"))
        await using (var reader = await pick.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                ids.Add(reader.GetGuid(0));
                tokens.Add(reader.GetGuid(1));
            }
        }

        string plan;
        await using (var connection = await ds.OpenConnectionAsync())
        await using (var tx = await connection.BeginTransactionAsync())
        {
            await using var explain = new NpgsqlCommand("EXPLAIN (ANALYZE, FORMAT TEXT) " + JobSql.CompleteRemoving.Replace("{s}", Schema, StringComparison.Ordinal), connection, tx);
            explain.Parameters.Add(new NpgsqlParameter { Value = "plan" });
            explain.Parameters.Add(new NpgsqlParameter { Value = "w" });
            explain.Parameters.Add(new NpgsqlParameter { Value = ids.ToArray() });
            explain.Parameters.Add(new NpgsqlParameter { Value = tokens.ToArray() });
            var lines = new List<string>();
            await using (var reader = await explain.ExecuteReaderAsync())
            {
                while (await reader.ReadAsync())
                {
                    lines.Add(reader.GetString(0));
                }
            }

            plan = string.Join('\n', lines);
            await tx.RollbackAsync();
        }

        Assert.DoesNotContain("Seq Scan on jobs", plan, StringComparison.Ordinal);
        Assert.Contains("Index Scan using jobs_pkey on jobs", plan, StringComparison.Ordinal);
        Assert.Contains("Tid Scan on jobs", plan, StringComparison.Ordinal);
        var delete = Assert.Single(plan.Split('\n'), l => l.Contains("Delete on jobs j", StringComparison.Ordinal));
        Assert.Contains("rows=1000 loops=1", delete, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_removing_completion_applies_only_to_the_claim_that_holds_the_job()
    {
        await using var q = await TestQueue.CreateAsync(fixture, b => { });
        var d = q.Driver;
        var id = await q.Queue.PushAsync(new ValueJob(1));
        var first = Assert.Single(await d.ClaimAsync(new JobClaimRequest("a", 1, Minute), CancellationToken.None));

        await d.CompleteAsync("intruder", [Done(first)], CancellationToken.None);
        await d.CompleteAsync("a", [Done(first) with { LeaseToken = Guid.NewGuid() }], CancellationToken.None);
        Assert.Equal((JobState.Processing, "a"), await StateAsync(q, id.Value));

        // Worker a's lease runs out; the job is rescued and claimed by worker b. A's late report must not delete it.
        await q.DataSource.ExecAsync($"UPDATE jobs_test.jobs SET lease_expires_at = now() - interval '1 second' WHERE id = '{id.Value}'");
        Assert.Equal(1, await d.RescueExpiredLeasesAsync(CancellationToken.None));
        var second = Assert.Single(await d.ClaimAsync(new JobClaimRequest("b", 1, Minute), CancellationToken.None));
        await d.CompleteAsync("a", [Done(first)], CancellationToken.None);
        Assert.Equal((JobState.Processing, "b"), await StateAsync(q, id.Value));

        await d.CompleteAsync("b", [Done(second)], CancellationToken.None);
        Assert.Null(await StateAsync(q, id.Value));
    }

    [Fact]
    public async Task One_batch_removes_plain_completions_keeps_a_unique_hold_and_requeues_a_retry()
    {
        await using var q = await TestQueue.CreateAsync(fixture, b => { });
        var d = q.Driver;
        await q.Queue.PushManyAsync(Enumerable.Range(0, 3).Select(i => new ValueJob(i)));
        var claimed = await d.ClaimAsync(new JobClaimRequest("w", 3, Minute), CancellationToken.None);
        Assert.Equal(3, claimed.Count);
        var (plain, held, retried) = (claimed[0], claimed[1], claimed[2]);
        await q.DataSource.ExecAsync($"UPDATE jobs_test.jobs SET unique_key = 'k-{held.Id.Value}', unique_for = interval '1 hour' WHERE id = '{held.Id.Value}'");

        await d.CompleteAsync("w", [Done(plain), Done(held), new JobOutcome(retried.Id, JobOutcomeKind.Retry, retried.Attempt, LeaseToken: retried.LeaseToken)],
            CancellationToken.None);

        Assert.Null(await StateAsync(q, plain.Id.Value));
        Assert.Equal(JobState.Completed, (await StateAsync(q, held.Id.Value))?.State);
        Assert.Equal(JobState.Retrying, (await StateAsync(q, retried.Id.Value))?.State);
    }

    private static JobOutcome Done(ClaimedJob job) => new(job.Id, JobOutcomeKind.Completed, job.Attempt, LeaseToken: job.LeaseToken);

    private static async Task<(JobState State, string? Worker)?> StateAsync(TestQueue q, Guid id)
    {
        await using var command = q.DataSource.CreateCommand($"SELECT state, worker_id FROM jobs_test.jobs WHERE id = '{id}'");
        await using var reader = await command.ExecuteReaderAsync();
        return await reader.ReadAsync() ? ((JobState)reader.GetInt16(0), reader.IsDBNull(1) ? null : reader.GetString(1)) : null;
    }

    private static async Task<string> TextAsync(NpgsqlDataSource ds, string sql)
    {
        await using var command = ds.CreateCommand(sql);
        return (string)(await command.ExecuteScalarAsync())!;
    }
}
