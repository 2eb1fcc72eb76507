using System.Text.Json;
using Npgsql;
using NpgsqlTypes;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// Plan checks (issue 15): the driver's hot statements keep their index paths on a table that holds a delayed backlog
/// and finished history. Each test runs <c>EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)</c> of the driver's own SQL in a
/// rolled-back transaction and asserts the plan (indexes used, no sequential scan of the jobs table) and the buffers it
/// touched, which grow with the rows a plan walks, not with the machine's speed. No timing is asserted.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed partial class PlanTests(PostgresFixture fixture)
{
    private const string Schema = "jobs_plan";
    private const string Busy = "busy";   // 100 due Normal jobs behind 50,000 delayed Higher ones, and 50,000 finished rows
    private const string Idle = "idle";   // 50,000 delayed Higher jobs, nothing due
    private const int Delayed = 50_000;
    private static readonly SemaphoreSlim SeedLock = new(1, 1);
    private static bool s_seeded;

    [Theory]
    [InlineData(false)]
    [InlineData(true)] // the plan the driver runs (a generic plan, see ClaimPlanCacheTests)
    public async Task Claim_reads_the_due_jobs_and_not_the_delayed_backlog_in_front_of_them(bool generic)
    {
        await using var ds = await SeededAsync();
        var plan = await ExplainClaimAsync(ds, generic, Busy);
        Assert.Equal(16, plan.Root.ActualRows);
        Assert.DoesNotContain(plan.Nodes, n => n.Type == "Seq Scan");
        Assert.Contains(plan.Nodes, n => n.Index == "jobs_runnable_idx");
        Assert.DoesNotContain(plan.Nodes, n => n.Type == "Sort"); // the name filter ('plan') does not make it sort the due rows
        // Walking the 50,000 delayed rows costs hundreds of buffers; reading 16 due rows costs a few dozen (+ the update).
        Assert.True(plan.Root.Buffers < 400, $"the claim touched {plan.Root.Buffers} buffers:\n{plan.Text}");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_claim_of_hundreds_of_jobs_updates_the_row_versions_it_locked_by_address_and_draws_no_random_token_per_row(bool generic)
    {
        // 20,000 due jobs, a claim of 500 (an adaptive prefetch claims hundreds at once): joined to the taken rows as the
        // planner estimated them, the UPDATE read the whole table (a sequential scan into a hash join) on every claim.
        // Joined by id, each taken row was found twice through the primary key (locked by the scan of the runnable
        // index, then probed again for the UPDATE): the UPDATE now fetches the version it locked by its ctid. And the
        // new lease tokens come from the caller ($7), not from gen_random_uuid() once per row.
        const string Small = "jobs_plan_claim";
        await using var ds = fixture.CreateDataSource();
        await using (var driver = new PostgresJobDriver(ds, new PostgresJobDriverOptions { Schema = Small }))
        {
            await driver.WaitUntilReadyAsync(default);
        }

        await ds.ExecAsync($"""
            ALTER TABLE {Small}.jobs SET (autovacuum_enabled = false);
            DELETE FROM {Small}.jobs;
            INSERT INTO {Small}.jobs (id, queue_name, name, payload, priority, run_at)
            SELECT gen_random_uuid(), 'small', 'plan', jsonb_build_object('s', g), 2, now() - interval '1 second' FROM generate_series(1, 20000) g;
            """);
        await ds.ExecAsync($"VACUUM ANALYZE {Small}.jobs");
        var sql = JobSql.Claim.Replace("{s}", Small, StringComparison.Ordinal);
        var plan = generic
            ? await ExplainGenericAsync(ds, sql, ClaimTypes, ("SELECT 1", []), ClaimArguments("small", 500))
            : await ExplainAsync(ds, sql, ClaimArguments("small", 500));
        Assert.Equal(500, plan.Root.ActualRows);
        Assert.DoesNotContain(plan.Nodes, n => n.Relation == "jobs" && n.Type == "Seq Scan");
        Assert.DoesNotContain(plan.Nodes, n => n.Type is "Hash Join" or "Merge Join");
        Assert.DoesNotContain(plan.Nodes, n => n.Index == "jobs_pkey");
        var fetch = Assert.Single(plan.Nodes, n => n.Relation == "jobs" && n.Type == "Tid Scan");
        Assert.Equal(500, fetch.Loops);
        Assert.Equal(500, fetch.ActualRows * fetch.Loops);
        Assert.DoesNotContain("gen_random_uuid", plan.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_claimed_job_enters_the_primary_key_and_the_state_index_and_no_other_index()
    {
        // A claim rewrites the row; the new version enters every index whose predicate it matches (none is HOT: the
        // state changes). Each index's own predicate, evaluated by PostgreSQL for an unkeyed, non-unique row as a claim
        // leaves it (and as an outcome leaves it when retention keeps it): which indexes does each write enter?
        await using var ds = await SeededAsync();
        Assert.Equal(["jobs_pkey", "jobs_queue_state_idx"], await IndexesEnteredAsync(ds, JobState.Processing));
        Assert.Equal(["jobs_admin_list_idx", "jobs_pkey", "jobs_queue_state_idx"], await IndexesEnteredAsync(ds, JobState.Completed));
        Assert.Equal(["jobs_pkey", "jobs_runnable_idx"], await IndexesEnteredAsync(ds, JobState.Pending));

        static async Task<List<string>> IndexesEnteredAsync(NpgsqlDataSource ds, JobState state)
        {
            var entered = new List<string>();
            var indexes = new List<(string Name, string? Predicate)>();
            await using (var read = ds.CreateCommand($"""
                SELECT c.relname, pg_get_expr(i.indpred, i.indrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
                WHERE i.indrelid = '{Schema}.jobs'::regclass ORDER BY c.relname
                """))
            await using (var reader = await read.ExecuteReaderAsync())
            {
                while (await reader.ReadAsync())
                {
                    indexes.Add((reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetString(1)));
                }
            }

            foreach (var (name, predicate) in indexes)
            {
                if (predicate is null
                    || await ds.ScalarAsync($"SELECT ({predicate})::int FROM (SELECT {(int)state}::smallint AS state, NULL::text AS concurrency_key, NULL::text AS unique_key) AS jobs") == 1)
                {
                    entered.Add(name);
                }
            }

            return entered;
        }
    }

    [Theory]
    [InlineData(JobState.Processing)]
    [InlineData(JobState.Completed)]
    public async Task The_admin_list_of_a_queue_and_state_reads_a_small_index_range(JobState state)
    {
        // The busy queue holds 50,000 delayed and 50,000 completed rows; 300 jobs are processing. Processing rows are in
        // jobs_queue_state_idx (sorted there: they are the jobs in flight), finished ones in jobs_admin_list_idx, in order.
        await using var ds = await SeededAsync();
        const string Running = """
            INSERT INTO {s}.jobs (id, queue_name, name, payload, state, attempts, worker_id, lease_token, lease_expires_at, started_at)
            SELECT gen_random_uuid(), 'busy', 'plan', jsonb_build_object(), 1, 1, 'plan-worker', gen_random_uuid(), now() + interval '1 minute', now()
            FROM generate_series(1, 300)
            """;
        var query = new JobQuery { Queue = Busy, States = [state], Limit = 50 };
        var sql = JobQuerySql.For(Schema, query);
        var plan = await ExplainAsync(ds, sql.Page(query), [(Running, [])], [.. sql.Parameters]);
        Assert.Equal(51, plan.Root.ActualRows);
        Assert.DoesNotContain(plan.Nodes, n => n.Type == "Seq Scan");
        Assert.Contains(plan.Nodes, n => n.Index == (state == JobState.Processing ? "jobs_queue_state_idx" : "jobs_admin_list_idx"));
        Assert.True(plan.Root.Buffers < 1_000, $"the admin list touched {plan.Root.Buffers} buffers:\n{plan.Text}");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Idle_poll_is_a_few_index_descents_however_many_jobs_are_delayed(bool generic)
    {
        await using var ds = await SeededAsync();
        var plan = await ExplainClaimAsync(ds, generic, Idle);
        Assert.Equal(0, plan.Root.ActualRows);
        Assert.DoesNotContain(plan.Nodes, n => n.Type == "Seq Scan");
        Assert.True(plan.Root.Buffers < 60, $"an idle poll touched {plan.Root.Buffers} buffers:\n{plan.Text}");
    }

    /// <summary>
    /// The claim runs its generic plan, which cannot see its <c>LIMIT</c>: its estimated cost grows with the queue, and
    /// from a few hundred thousand runnable rows it passes <c>jit_above_cost</c> (100,000 by default). PostgreSQL then
    /// JIT-compiled the claim on every execution: a 1,000,000-job drain ran at 6–7k jobs/s, ~40 ms of LLVM per claim
    /// (19k jobs/s with JIT off). The settings statement the worker sends in front of each claim now turns JIT off for the
    /// transaction. Here the threshold is lowered to 0 instead of seeding a million rows.
    /// </summary>
    [Fact]
    public async Task A_claim_behind_the_workers_transaction_settings_is_never_jit_compiled_however_large_its_estimate()
    {
        await using var ds = await SeededAsync();
        (string Sql, NpgsqlParameter[] Parameters) anyCost = ("SET LOCAL jit_above_cost = 0", []);
        var control = await ExplainGenericAsync(ds, JobSql.Claim, ClaimTypes, [anyCost], ClaimArguments(Busy));
        Assert.True(control.Text.Contains("\"JIT\"", StringComparison.Ordinal),
            "this server did not JIT-compile the claim at jit_above_cost = 0 (jit off, or no LLVM), so the check below could not fail");

        var settings = JobSql.TransactionSettings(asynchronousCommit: false, genericPlan: true, maintenance: false)!;
        var plan = await ExplainGenericAsync(ds, JobSql.Claim, ClaimTypes, [anyCost, (settings, [])], ClaimArguments(Busy));
        Assert.Equal(16, plan.Root.ActualRows);
        Assert.False(plan.Text.Contains("\"JIT\"", StringComparison.Ordinal), $"the claim was JIT-compiled behind \"{settings}\":\n{plan.Text}");
    }

    [Fact]
    public async Task Counts_do_not_read_the_jobs_table()
    {
        await using var ds = await SeededAsync();
        var read = await ExplainAsync(ds, CountSql.Read, Text(Busy));
        Assert.DoesNotContain(read.Nodes, n => n.Relation == "jobs");
        var compact = await ExplainAsync(ds, CountSql.Compact, Text(Busy), Int(0));
        Assert.DoesNotContain(compact.Nodes, n => n.Relation == "jobs");
    }

    [Fact]
    public async Task The_admin_queue_list_reads_the_counts_and_not_the_jobs()
    {
        // GetQueuesAsync feeds the dashboard's live view (every few seconds while a page is open) and `jobs status`:
        // it must cost O(queues x states), not a count of a million rows.
        await using var ds = await SeededAsync();
        var counts = await ExplainAsync(ds, CountSql.ReadAll);
        Assert.DoesNotContain(counts.Nodes, n => n.Relation == "jobs");

        // The oldest waiting job: one entry of the runnable index per queue and priority, however many jobs wait or are delayed.
        var oldest = await ExplainAsync(ds, AdminSql.QueueOldestWaiting);
        var jobReads = oldest.Nodes.Where(n => n.Relation == "jobs").ToList();
        Assert.All(jobReads, n => Assert.Equal("jobs_runnable_idx", n.Index));
        Assert.NotEmpty(jobReads);
        Assert.All(jobReads, n => Assert.InRange(n.Loops, 1, 2 * 5));      // queues x priorities
        Assert.All(jobReads, n => Assert.InRange(n.ActualRows, 0, 1));     // per loop (EXPLAIN reports the average)
        Assert.Equal(1, oldest.Root.ActualRows); // Busy has due jobs; Idle's are all delayed
    }

    [Fact]
    public async Task Cleanup_acts_on_one_bounded_batch_per_statement_through_the_state_index()
    {
        await using var ds = await SeededAsync();
        var plan = await ExplainAsync(ds, CleanupSql.Remove(runnable: false), Text(Busy), Short((short)JobState.Completed),
            new NpgsqlParameter { Value = DBNull.Value, NpgsqlDbType = NpgsqlDbType.Double }, Int(CleanupSql.BatchSize), NoTime());
        // Through the state index (an index scan, or a bitmap scan when the batch is a large share of the rows), never the table.
        Assert.Contains(plan.Nodes, n => n.Index == "jobs_queue_state_idx");
        Assert.DoesNotContain(plan.Nodes, n => n.Type == "Seq Scan");
        // The lock in id order by the primary key, and the delete by TID.
        AssertLockByIdAndTidScanOfOneBatch(plan);

        // The first page of the idle queue's walk (its 50,000 delayed jobs are of priority Higher, 3).
        var pending = await ExplainAsync(ds, CleanupSql.Remove(runnable: true), Text(Idle), Short((short)JobState.Pending),
            new NpgsqlParameter { Value = DBNull.Value, NpgsqlDbType = NpgsqlDbType.Double }, Int(CleanupSql.BatchSize), Short(3),
            new NpgsqlParameter { Value = DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz }, new NpgsqlParameter { Value = DBNull.Value, NpgsqlDbType = NpgsqlDbType.Uuid });
        Assert.Contains(pending.Nodes, n => n.Index == "jobs_runnable_idx");
        Assert.DoesNotContain(pending.Nodes, n => n.Type == "Seq Scan");
        AssertLockByIdAndTidScanOfOneBatch(pending);

        var rerun = await ExplainAsync(ds, CleanupSql.Rerun(runnable: false), Text(Busy), Short((short)JobState.Completed),
            new NpgsqlParameter { Value = DateTimeOffset.UtcNow.AddDays(1), NpgsqlDbType = NpgsqlDbType.TimestampTz }, Int(CleanupSql.BatchSize), NoTime());
        Assert.Contains(rerun.Nodes, n => n.Index == "jobs_queue_state_idx");
        Assert.DoesNotContain(rerun.Nodes, n => n.Type == "Seq Scan");
        // The picked rows found by id (their lock, their update), each of them once per look-up.
        Assert.Contains(rerun.Nodes, n => n.Index == "jobs_pkey");
        Assert.All(rerun.Nodes.Where(n => n.Index == "jobs_pkey"), n => Assert.True(n.ActualRows * n.Loops + n.RemovedByFilter <= CleanupSql.BatchSize,
            $"a {n.Type} of jobs_pkey read {n.ActualRows * n.Loops + n.RemovedByFilter} rows for a batch of {CleanupSql.BatchSize}:\n{rerun.Text}"));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Outcomes_and_renewals_find_their_rows_by_key_once_per_row(bool remove)
    {
        // 1,000 outcomes of 2,000 jobs this worker holds, claimed after the statistics were taken (the planner believes
        // almost nothing is processing, as on a freshly loaded queue). The argument arrays must be read once and each row
        // found through the primary key: a nested loop that rescans the arrays per row is quadratic (seconds per batch).
        await using var ds = await SeededAsync();
        var (ids, tokens, setup) = HeldJobs("outcomes");
        var n = 1000;
        var done = ids.Take(n).ToArray();
        var complete = await ExplainGenericAsync(ds, JobSql.Complete, "text, text, uuid[], integer[], smallint[], double precision[], integer[], text[], boolean[], text, boolean, uuid[], text[], timestamptz[]", setup(),
            Text("outcomes"), Text("plan-worker"), Array(done, NpgsqlDbType.Uuid), Array(new int[n], NpgsqlDbType.Integer),
            Array(new short[n], NpgsqlDbType.Smallint), Array(new double[n], NpgsqlDbType.Double), Array(new int[n], NpgsqlDbType.Integer),
            Array(new string?[n], NpgsqlDbType.Text), Array(Enumerable.Repeat(remove, n).ToArray(), NpgsqlDbType.Boolean), Text(null),
            new NpgsqlParameter<bool> { TypedValue = false, NpgsqlDbType = NpgsqlDbType.Boolean }, Array(tokens.Take(n).ToArray(), NpgsqlDbType.Uuid),
            Array(new string?[n], NpgsqlDbType.Text), Array(new DateTimeOffset?[n], NpgsqlDbType.TimestampTz));
        AssertKeyed(complete, n);

        var renew = await ExplainGenericAsync(ds, JobSql.RenewLeases, "text, uuid[], text, double precision, uuid[], double precision[]", setup(),
            Text("outcomes"), Array(done, NpgsqlDbType.Uuid), Text("plan-worker"), Double(30_000), Array(tokens.Take(n).ToArray(), NpgsqlDbType.Uuid),
            Array(Enumerable.Repeat<double?>(250, n).ToArray(), NpgsqlDbType.Double));
        AssertKeyed(renew, n);

        static void AssertKeyed(Plan plan, int rows)
        {
            Assert.All(plan.Nodes.Where(x => x.Type == "Function Scan"), f => Assert.True(f.Loops <= 1, $"an argument array was read {f.Loops} times:\n{plan.Text}"));
            Assert.DoesNotContain(plan.Nodes, x => x.Relation == "jobs" && x.Type == "Seq Scan");
            Assert.DoesNotContain(plan.Nodes, x => x.Index == "jobs_queue_state_idx");
            Assert.True(plan.Nodes.Max(x => x.RemovedByJoinFilter) < rows, $"a join compared rows pairwise:\n{plan.Text}");
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Removing_outcomes_delete_each_row_through_one_primary_key_probe_in_id_order_and_lock_none(bool generic)
    {
        // As above: 1,000 removals of 2,000 held jobs the statistics have not seen, custom and generic plan. Each argument
        // row drives one primary-key probe and one fetch by ctid (the argument rows, sorted by id, are the outer side: the
        // rows are deleted in id order, the lock order of renewals and the locking outcome write); no row is locked first.
        await using var ds = await SeededAsync();
        var (ids, tokens, setup) = HeldJobs("removing");
        const int N = 1000;
        NpgsqlParameter[] Arguments() => [Text("removing"), Text("plan-worker"), Array(ids.Take(N).ToArray(), NpgsqlDbType.Uuid), Array(tokens.Take(N).ToArray(), NpgsqlDbType.Uuid)];
        var plan = generic
            ? await ExplainGenericAsync(ds, JobSql.CompleteRemoving, "text, text, uuid[], uuid[]", setup(), Arguments())
            : await ExplainAsync(ds, JobSql.CompleteRemoving, [setup()], Arguments());

        Assert.Equal(N, Assert.Single(plan.Nodes, x => x.Type == "ModifyTable").ActualRows);
        Assert.DoesNotContain(plan.Nodes, x => x.Type == "LockRows");
        Assert.DoesNotContain(plan.Nodes, x => x.Relation == "jobs" && x.Type is "Seq Scan" or "Bitmap Heap Scan");
        Assert.All(plan.Nodes.Where(x => x.Type == "Function Scan"), f => Assert.True(f.Loops <= 1, $"an argument array was read {f.Loops} times:\n{plan.Text}"));
        var probe = Assert.Single(plan.Nodes, x => x.Relation == "jobs" && x.Index is not null);
        Assert.Equal(("Index Scan", "jobs_pkey", (long)N), (probe.Type, probe.Index, probe.Loops));
        var fetch = Assert.Single(plan.Nodes, x => x.Relation == "jobs" && x.Type == "Tid Scan");
        Assert.Equal(N, fetch.ActualRows * fetch.Loops);

        // The argument rows, sorted by id, are the outermost input of every join: rows reach the DELETE in id order.
        var outer = plan.Nodes.First(x => x.Type is "Nested Loop" or "Hash Join" or "Merge Join");
        Assert.Equal("Nested Loop", outer.Type);
        var sort = plan.Nodes.IndexOf(plan.Nodes.First(x => x.Type == "Sort"));
        Assert.True(sort < plan.Nodes.IndexOf(probe) && sort < plan.Nodes.IndexOf(fetch), $"the sorted argument rows must drive the plan:\n{plan.Text}");
    }

    [Fact]
    public async Task Keyed_candidates_pass_the_concurrency_gate_through_one_probe_each_of_the_key_index()
    {
        await using var ds = await SeededAsync();
        // Queue 'keyed': 1,000 keys of 20 jobs each (limit 1, pushed interleaved); the first job of keys 0-299 is running,
        // and their second jobs are first in claim order: the gate holds those 300, then takes the heads of other keys.
        const string Seed = """
            INSERT INTO {s}.jobs (id, queue_name, name, payload, priority, run_at, concurrency_key, concurrency_limit, key_seq, state, attempts)
            SELECT gen_random_uuid(), 'keyed', 'plan', jsonb_build_object(), 2,
                now() - interval '1 hour' + (CASE WHEN g BETWEEN 1000 AND 1299 THEN g - 1000 ELSE g + 1000 END) * interval '1 ms',
                'k' || (g % 1000), 1, nextval('{s}.jobs_key_seq'), CASE WHEN g < 300 THEN 1 ELSE 0 END, CASE WHEN g < 300 THEN 1 ELSE 0 END
            FROM generate_series(0, 19999) g ORDER BY g;
            ANALYZE {s}.jobs;
            """;
        // The generic plan: the claim is a prepared statement, planned once for any arguments after a few runs.
        var plan = await ExplainGenericAsync(ds, JobSql.Claim, ClaimTypes, (Seed, []), ClaimArguments("keyed"));
        Assert.Equal(16, plan.Root.ActualRows);
        Assert.DoesNotContain(plan.Nodes, n => n.Relation == "jobs" && n.Type == "Seq Scan");
        Assert.Contains(plan.Nodes, n => n.Index == "jobs_runnable_idx");
        // The gate: an index probe per keyed candidate (the 300 held ones, then the 16 taken), never a scan of the key's jobs.
        var gate = Assert.Single(plan.Nodes, n => n.Index == "jobs_concurrency_key_idx");
        Assert.True(gate.Loops >= 316, $"the gate ran {gate.Loops} times:\n{plan.Text}");
        Assert.True(plan.Root.Buffers < 3_000, $"the claim touched {plan.Root.Buffers} buffers:\n{plan.Text}");
    }

    [Fact]
    public async Task Admitted_keyed_candidates_pass_the_gate_without_reading_their_key_line()
    {
        await using var ds = await SeededAsync();
        // Queue 'admitted': one key of 500 jobs with a limit that never binds (1,000), pushed by the driver's keyed push
        // (so admitted), the first 400 deleted as finished jobs are: their index entries stay until vacuum. A count of the
        // line walks them for every candidate (~400 entries each, more with the limit); admitted rows are not counted.
        var n = 500;
        var keys = Enumerable.Repeat<string?>("deep", n).ToArray();
        NpgsqlParameter[] Push() =>
        [
            Text("admitted"), Array(Enumerable.Range(0, n).Select(_ => Guid.NewGuid()).ToArray(), NpgsqlDbType.Uuid),
            Array(Enumerable.Repeat("plan", n).ToArray(), NpgsqlDbType.Text), Array(Enumerable.Repeat("{}", n).ToArray(), NpgsqlDbType.Text),
            Array(new string?[n], NpgsqlDbType.Text), Array(Enumerable.Repeat((short)2, n).ToArray(), NpgsqlDbType.Smallint),
            Array(new DateTime?[n], NpgsqlDbType.TimestampTz), Array(Enumerable.Repeat(4, n).ToArray(), NpgsqlDbType.Integer), Text(null),
            Array(keys, NpgsqlDbType.Text), Array(Enumerable.Repeat(1000, n).ToArray(), NpgsqlDbType.Integer),
        ];
        const string Finish = """
            DELETE FROM {s}.jobs WHERE id IN (SELECT id FROM {s}.jobs WHERE queue_name = 'admitted' ORDER BY key_seq LIMIT 400);
            ANALYZE {s}.jobs;
            """;
        var plan = await ExplainGenericAsync(ds, JobSql.Claim, ClaimTypes,
            [(KeyAdmissionSql.Lock, [Text("admitted"), Array(keys, NpgsqlDbType.Text)]), (KeyAdmissionSql.PushMany, Push()), (Finish, [])],
            ClaimArguments("admitted"));
        Assert.Equal(16, plan.Root.ActualRows);
        // The gate never ran its count: the key index is not read, whatever the limit and however long the key's history.
        Assert.All(plan.Nodes.Where(x => x.Index == "jobs_concurrency_key_idx"), x => Assert.Equal(0, x.Loops));
        // The claim itself (its scan past the deleted rows' runnable entries, the update, the triggers) costs a few hundred
        // buffers; counting the line would add a heap visit per entry walked, thousands for 16 candidates.
        Assert.True(plan.Root.Buffers < 1_000, $"the claim touched {plan.Root.Buffers} buffers:\n{plan.Text}");
    }

    [Fact]
    public async Task Priorities_the_claim_does_not_read_are_refused_at_push()
    {
        await using var ds = await SeededAsync();
        await using var driver = new PostgresJobDriver(ds, new PostgresJobDriverOptions { Schema = Schema, QueueName = "odd" });
        var job = new Drivers.JobPushRecord { Id = JobId.New(), Name = "plan", Payload = "{}"u8.ToArray(), Priority = (JobPriority)7 };
        var ex = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => driver.PushAsync([job], null, default));
        Assert.Contains("not a JobPriority value", ex.Message, StringComparison.Ordinal);
        Assert.Equal(0L, await ds.ScalarAsync($"SELECT count(*) FROM {Schema}.jobs WHERE queue_name = 'odd'"));
    }

    // ---------------------------------------------------------------- support

    private async Task<NpgsqlDataSource> SeededAsync()
    {
        var ds = fixture.CreateDataSource();
        await SeedLock.WaitAsync();
        try
        {
            if (!s_seeded)
            {
                await using (var driver = new PostgresJobDriver(ds, new PostgresJobDriverOptions { Schema = Schema }))
                {
                    await driver.WaitUntilReadyAsync(default);
                }

                await ds.ExecAsync($"""
                    ALTER TABLE {Schema}.jobs SET (autovacuum_enabled = false);
                    DELETE FROM {Schema}.jobs;
                    INSERT INTO {Schema}.jobs (id, queue_name, name, payload, priority, run_at)
                    SELECT gen_random_uuid(), q, 'plan', jsonb_build_object(), 3, now() + interval '1 day' + g * interval '1 ms'
                    FROM generate_series(1, {Delayed}) g, (VALUES ('{Busy}'), ('{Idle}')) v(q);
                    INSERT INTO {Schema}.jobs (id, queue_name, name, payload, state, attempts, finished_at, updated_at)
                    SELECT gen_random_uuid(), '{Busy}', 'plan', jsonb_build_object(), 3, 1, now() - interval '1 hour', now() - interval '1 hour'
                    FROM generate_series(1, {Delayed}) g;
                    INSERT INTO {Schema}.jobs (id, queue_name, name, payload, priority, run_at)
                    SELECT gen_random_uuid(), '{Busy}', 'plan', jsonb_build_object(), 2, now() - interval '1 second' FROM generate_series(1, 100) g;
                    """);
                await ds.ExecAsync($"VACUUM ANALYZE {Schema}.jobs");
                s_seeded = true;
            }
        }
        finally
        {
            SeedLock.Release();
        }

        return ds;
    }

    private static Task<Plan> ExplainAsync(NpgsqlDataSource ds, string sql, params NpgsqlParameter[] parameters)
        => ExplainAsync(ds, sql, [], parameters);

    private const string ClaimTypes = "text, integer, text, double precision, text[], integer, uuid";

    /// <summary>The claim of 16 jobs of <paramref name="queue"/> named 'plan', with its custom or its generic plan.</summary>
    private static Task<Plan> ExplainClaimAsync(NpgsqlDataSource ds, bool generic, string queue) => generic
        ? ExplainGenericAsync(ds, JobSql.Claim, ClaimTypes, ("SELECT 1", []), ClaimArguments(queue))
        : ExplainAsync(ds, JobSql.Claim, ClaimArguments(queue));

    /// <summary>The claim's arguments: <paramref name="jobs"/> jobs of <paramref name="queue"/> named 'plan' for 'plan-worker'.</summary>
    private static NpgsqlParameter[] ClaimArguments(string queue, int jobs = 16) =>
        [Text(queue), Int(jobs), Text("plan-worker"), Double(30_000), SqlParameters.Names(["plan"]), SqlParameters.Integer((int?)null), Tokens()];

    /// <summary>
    /// EXPLAIN ANALYZE of the plan a prepared statement gets after five runs: PostgreSQL then plans it once for any
    /// arguments (a generic plan, which cannot see the arrays' lengths). <paramref name="types"/>: the parameter types.
    /// </summary>
    /// <summary>2,000 jobs of queue <paramref name="queue"/> that worker 'plan-worker' holds, inserted by the returned setup
    /// step (fresh parameters on each call) after the statistics were taken (the planner believes almost nothing is processing).</summary>
    private static (Guid[] Ids, Guid[] Tokens, Func<(string Sql, NpgsqlParameter[] Parameters)> Setup) HeldJobs(string queue)
    {
        var ids = Enumerable.Range(0, 2000).Select(_ => Guid.NewGuid()).ToArray();
        var tokens = ids.Select(_ => Guid.NewGuid()).ToArray();
        var sql = $$"""
            INSERT INTO {s}.jobs (id, queue_name, name, payload, state, attempts, worker_id, lease_token, lease_expires_at, started_at)
            SELECT id, '{{queue}}', 'plan', jsonb_build_object(), 1, 1, 'plan-worker', t, now() + interval '1 minute', now()
            FROM unnest(@ids::uuid[], @tokens::uuid[]) AS r(id, t)
            """;
        return (ids, tokens, () => (sql, [new NpgsqlParameter("ids", ids), new NpgsqlParameter("tokens", tokens)]));
    }

    private static Task<Plan> ExplainGenericAsync(NpgsqlDataSource ds, string sql, string types, (string Sql, NpgsqlParameter[] Parameters) setup,
        params NpgsqlParameter[] parameters)
        => ExplainGenericAsync(ds, sql, types, [setup], parameters);

    /// <summary>As above, with several setup statements run in order.</summary>
    private static async Task<Plan> ExplainGenericAsync(NpgsqlDataSource ds, string sql, string types, (string Sql, NpgsqlParameter[] Parameters)[] setup,
        params NpgsqlParameter[] parameters)
    {
        // EXECUTE takes no bound parameters: each argument travels as a transaction-local setting, cast back to its type.
        var typeList = types.Split(',', StringSplitOptions.TrimEntries);
        var arguments = new List<string>();
        var stash = new List<NpgsqlParameter>();
        for (var i = 0; i < parameters.Length; i++)
        {
            if (parameters[i].Value is null or DBNull)
            {
                arguments.Add($"NULL::{typeList[i]}");
                continue;
            }

            var name = $"p{i}";
            parameters[i].ParameterName = name;
            stash.Add(parameters[i]);
            arguments.Add($"current_setting('plan_probe.{name}')::{typeList[i]}");
        }

        var settings = string.Join("; ", stash.Select(p => $"SELECT set_config('plan_probe.{p.ParameterName}', @{p.ParameterName}::text, true)"));
        var statement = $"plan_probe_{Guid.NewGuid():N}"; // session-level: unique, so a pooled connection never sees it twice
        var prepare = $"SET LOCAL plan_cache_mode = force_generic_plan; PREPARE {statement} ({types}) AS {sql.Replace("{s}", Schema, StringComparison.Ordinal)}";
        return await ExplainAsync(ds, $"EXECUTE {statement} ({string.Join(", ", arguments)})",
            [.. setup, (settings, [.. stash]), (prepare, [])]);
    }

    /// <summary>EXPLAIN ANALYZE in a transaction rolled back afterwards; <paramref name="setup"/> runs first in it.</summary>
    private static async Task<Plan> ExplainAsync(NpgsqlDataSource ds, string sql, (string Sql, NpgsqlParameter[] Parameters)[] setup,
        params NpgsqlParameter[] parameters)
    {
        await using var connection = await ds.OpenConnectionAsync();
        await using var tx = await connection.BeginTransactionAsync();
        foreach (var (setupSql, setupParameters) in setup)
        {
            await using var prepare = new NpgsqlCommand(setupSql.Replace("{s}", Schema, StringComparison.Ordinal), connection, tx);
            prepare.Parameters.AddRange(setupParameters);
            await prepare.ExecuteNonQueryAsync();
        }

        await using var command = new NpgsqlCommand("EXPLAIN (ANALYZE, BUFFERS, VERBOSE, FORMAT JSON) " + sql.Replace("{s}", Schema, StringComparison.Ordinal), connection, tx);
        command.Parameters.AddRange(parameters);
        var json = (string)(await command.ExecuteScalarAsync())!;
        await tx.RollbackAsync();
        using var doc = JsonDocument.Parse(json);
        var nodes = new List<PlanNode>();
        Collect(doc.RootElement[0].GetProperty("Plan"), nodes);
        return new Plan(nodes[0], nodes, json);
    }

    private static void Collect(JsonElement e, List<PlanNode> nodes)
    {
        nodes.Add(new PlanNode(
            e.GetProperty("Node Type").GetString()!,
            e.TryGetProperty("Relation Name", out var r) ? r.GetString() : null,
            e.TryGetProperty("Index Name", out var i) ? i.GetString() : null,
            e.TryGetProperty("Actual Rows", out var rows) ? rows.GetInt64() : 0,
            e.TryGetProperty("Actual Loops", out var loops) ? loops.GetInt64() : 0,
            e.TryGetProperty("Rows Removed by Join Filter", out var removed) ? removed.GetInt64() : 0,
            e.TryGetProperty("Rows Removed by Filter", out var filtered) ? filtered.GetInt64() : 0,
            (e.TryGetProperty("Shared Hit Blocks", out var hit) ? hit.GetInt64() : 0) + (e.TryGetProperty("Shared Read Blocks", out var read) ? read.GetInt64() : 0)));
        if (e.TryGetProperty("Plans", out var children))
        {
            foreach (var child in children.EnumerateArray())
            {
                Collect(child, nodes);
            }
        }
    }

    private sealed record Plan(PlanNode Root, List<PlanNode> Nodes, string Text);

    private sealed record PlanNode(string Type, string? Relation, string? Index, long ActualRows, long Loops, long RemovedByJoinFilter, long RemovedByFilter, long Buffers);

    private static NpgsqlParameter Text(string? value) => new() { Value = (object?)value ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text };

    private static NpgsqlParameter Short(short value) => new NpgsqlParameter<short> { TypedValue = value, NpgsqlDbType = NpgsqlDbType.Smallint };

    private static NpgsqlParameter Int(int value) => new NpgsqlParameter<int> { TypedValue = value, NpgsqlDbType = NpgsqlDbType.Integer };

    private static NpgsqlParameter Double(double value) => new NpgsqlParameter<double> { TypedValue = value, NpgsqlDbType = NpgsqlDbType.Double };

    private static NpgsqlParameter Uuids(List<Guid> ids) => Array(ids.ToArray(), NpgsqlDbType.Uuid);

    /// <summary>The claim's $7: the random uuid its lease tokens derive from.</summary>
    private static NpgsqlParameter Tokens() => new NpgsqlParameter<Guid> { TypedValue = Guid.NewGuid(), NpgsqlDbType = NpgsqlDbType.Uuid };

    private static NpgsqlParameter Array<T>(T[] values, NpgsqlDbType type) => new NpgsqlParameter<T[]> { TypedValue = values, NpgsqlDbType = NpgsqlDbType.Array | type };
}
