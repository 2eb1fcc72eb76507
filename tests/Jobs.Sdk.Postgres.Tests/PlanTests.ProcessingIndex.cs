using Jobs.Sdk.Cli;
using Npgsql;
using NpgsqlTypes;

namespace Jobs.Sdk.Postgres.Tests;

// Issue 16's shape (migration 0018): running rows in jobs_processing_idx only, waiting keyed rows in
// jobs_concurrency_key_idx. Every statement that reads running rows reads the processing index, every one that reads a
// key's waiting jobs reads the key index, and none reads the table: a state list that names both (state IN (0, 1, 2, 6))
// matches neither index's predicate, and PostgreSQL scans the table instead.
public sealed partial class PlanTests
{
    /// <summary>
    /// Queue 'lines': 2,000 keys (limit 3), each with 2 running jobs (the first 100 keys' leases expired) and 8 waiting
    /// behind them, none admitted (so every read of a line counts it), then statistics: 20,000 keyed rows next to the
    /// seeded 100,100 of the other queues.
    /// </summary>
    private const string Lines = """
        INSERT INTO {s}.jobs (id, queue_name, name, payload, priority, run_at, concurrency_key, concurrency_limit, key_seq, state, attempts,
            worker_id, lease_token, lease_expires_at, started_at, updated_at)
        SELECT gen_random_uuid(), 'lines', 'plan', jsonb_build_object(), 2, now() - interval '1 hour', 'k' || (g % 2000), 3, nextval('{s}.jobs_key_seq'),
            CASE WHEN g < 4000 THEN 1 ELSE 0 END, CASE WHEN g < 4000 THEN 1 ELSE 0 END,
            CASE WHEN g < 4000 THEN 'plan-worker' END, CASE WHEN g < 4000 THEN gen_random_uuid() END,
            CASE WHEN g < 4000 THEN now() + CASE WHEN g % 2000 < 100 THEN interval '-1 hour' ELSE interval '1 hour' END END,
            CASE WHEN g < 4000 THEN now() END, now() - interval '1 hour'
        FROM generate_series(0, 19999) g ORDER BY g;
        ANALYZE {s}.jobs;
        """;

    [Theory]
    [InlineData(false)]
    [InlineData(true)] // a single push is a prepared statement: its generic plan
    public async Task A_keyed_push_reads_its_key_line_through_the_key_and_processing_indexes(bool generic)
    {
        await using var ds = await SeededAsync();
        NpgsqlParameter[] Arguments() =>
        [
            Text("lines"), Id(Guid.NewGuid()), Text("plan"), Text("{}"), Text(null), Short(2), new NpgsqlParameter { Value = DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz },
            Int(4), Text(null), Text("k42"), Int(3),
        ];
        (string, NpgsqlParameter[])[] setup = [(Lines, []), (KeyAdmissionSql.LockOne, [Text("lines"), Text("k42")])];
        var plan = generic
            ? await ExplainGenericAsync(ds, KeyAdmissionSql.Push, "text, uuid, text, text, text, smallint, timestamptz, integer, text, text, integer", setup, Arguments())
            : await ExplainAsync(ds, KeyAdmissionSql.Push, setup, Arguments());

        // The last job of the line (one backward entry of each index), then its count (the last one is not admitted).
        AssertLineReads(plan, keys: 1);
        Assert.Equal(1, Assert.Single(plan.Nodes, n => n.Type == "ModifyTable").ActualRows);
    }

    [Fact]
    public async Task A_keyed_batch_reads_each_key_line_through_the_key_and_processing_indexes()
    {
        await using var ds = await SeededAsync();
        const int N = 500; // 250 keys of the seeded lines, two jobs each
        var keys = Enumerable.Range(0, N).Select(i => (string?)("k" + (i % 250))).ToArray();
        NpgsqlParameter[] push =
        [
            Text("lines"), Array(Enumerable.Range(0, N).Select(_ => Guid.NewGuid()).ToArray(), NpgsqlDbType.Uuid),
            Array(Enumerable.Repeat("plan", N).ToArray(), NpgsqlDbType.Text), Array(Enumerable.Repeat("{}", N).ToArray(), NpgsqlDbType.Text),
            Array(new string?[N], NpgsqlDbType.Text), Array(Enumerable.Repeat((short)2, N).ToArray(), NpgsqlDbType.Smallint),
            Array(new DateTime?[N], NpgsqlDbType.TimestampTz), Array(Enumerable.Repeat(4, N).ToArray(), NpgsqlDbType.Integer), Text(null),
            Array(keys, NpgsqlDbType.Text), Array(Enumerable.Repeat(3, N).ToArray(), NpgsqlDbType.Integer),
        ];
        // A keyed batch is planned at each execution (never prepared: KeyedBatchPlanTests).
        var plan = await ExplainAsync(ds, KeyAdmissionSql.PushMany,
            [(Lines, []), (KeyAdmissionSql.Lock, [Text("lines"), Array(keys, NpgsqlDbType.Text)])], push);

        AssertLineReads(plan, keys: 250);
        Assert.Equal(N, Assert.Single(plan.Nodes, n => n.Type == "ModifyTable").ActualRows);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Lease_rescue_reads_the_running_rows_of_its_queue_through_the_processing_index(bool generic)
    {
        await using var ds = await SeededAsync();
        NpgsqlParameter[] Arguments() => [Text("lines"), Bool(false), Bool(false), Text(null)];
        var plan = generic
            ? await ExplainGenericAsync(ds, JobSql.RescueExpired, "text, boolean, boolean, text", (Lines, []), Arguments())
            : await ExplainAsync(ds, JobSql.RescueExpired, [(Lines, [])], Arguments());

        AssertReadsRunningRowsOnly(plan);
        Assert.Equal(200L, Assert.Single(plan.Nodes, n => n.Type == "ModifyTable" && n.ActualRows > 0).ActualRows); // the expired leases
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_claim_under_a_global_limit_counts_the_running_jobs_through_the_processing_index(bool generic)
    {
        await using var ds = await SeededAsync();
        NpgsqlParameter[] Arguments() => [.. ClaimArguments("lines"), Int(10_000)];
        var plan = generic
            ? await ExplainGenericAsync(ds, JobSql.ClaimWithinLimit, ClaimTypes + ", integer", (Lines, []), Arguments())
            : await ExplainAsync(ds, JobSql.ClaimWithinLimit, [(Lines, [])], Arguments());

        Assert.DoesNotContain(plan.Nodes, n => n.Relation == "jobs" && n.Type == "Seq Scan");
        // The count: the queue's 4,000 running rows, through the processing index's queue_name prefix.
        Assert.Contains(plan.Nodes, n => n.Index == "jobs_processing_idx" && n.ActualRows * n.Loops >= 4_000);
        // The gate: a key's third job finds two running ahead of it (limit 3) and is taken; the jobs behind it are held.
        Assert.Equal(16, plan.Root.ActualRows);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Cleanup_counts_and_reruns_of_running_jobs_read_the_processing_index(bool generic)
    {
        await using var ds = await SeededAsync();
        var older = new NpgsqlParameter { Value = DBNull.Value, NpgsqlDbType = NpgsqlDbType.Double };
        NpgsqlParameter[] Count() => [Text("lines"), older, Text(null), Int(CleanupSql.BatchSize)];
        var count = generic
            ? await ExplainGenericAsync(ds, CleanupSql.CountRemovableProcessing, "text, double precision, timestamptz, integer", (Lines, []), Count())
            : await ExplainAsync(ds, CleanupSql.CountRemovableProcessing, [(Lines, [])], Count());
        AssertReadsRunningRowsOnly(count);

        NpgsqlParameter[] Rerun() =>
        [
            Text("lines"), Short((short)JobState.Processing), new NpgsqlParameter<DateTimeOffset> { TypedValue = DateTimeOffset.UtcNow.AddDays(1), NpgsqlDbType = NpgsqlDbType.TimestampTz },
            Int(CleanupSql.BatchSize),
        ];
        var rerun = generic
            ? await ExplainGenericAsync(ds, CleanupSql.RerunProcessing, "text, smallint, timestamptz, integer", (Lines, []), Rerun())
            : await ExplainAsync(ds, CleanupSql.RerunProcessing, [(Lines, [])], Rerun());
        AssertReadsRunningRowsOnly(rerun);
        Assert.Contains(rerun.Nodes, n => n.Type == "ModifyTable" && n.ActualRows == 200); // the rows whose lease ended, put back
    }

    [Fact]
    public async Task The_doctor_reads_the_running_rows_of_each_queue_through_the_processing_index()
    {
        await using var ds = await SeededAsync();
        var plan = await ExplainAsync(ds, DoctorSql.ExpiredLeases, [(Lines, [])]);
        AssertReadsRunningRowsOnly(plan);
        Assert.Equal(1, plan.Root.ActualRows); // 'lines': 200 leases expired an hour ago
    }

    /// <summary>
    /// The plan reads the key's waiting jobs through <c>jobs_concurrency_key_idx</c> and its running ones through
    /// <c>jobs_processing_idx</c>, a few entries per key (<paramref name="keys"/>), and never scans the table.
    /// </summary>
    private static void AssertLineReads(Plan plan, int keys)
    {
        Assert.DoesNotContain(plan.Nodes, n => n.Relation == "jobs" && n.Type == "Seq Scan");
        var waiting = plan.Nodes.Where(n => n.Index == "jobs_concurrency_key_idx").ToList();
        var running = plan.Nodes.Where(n => n.Index == "jobs_processing_idx").ToList();
        Assert.True(waiting.Count > 0 && running.Count > 0, $"the line is read from both indexes:\n{plan.Text}");
        Assert.DoesNotContain(plan.Nodes, n => n.Relation == "jobs" && n.Index is not null && n.Index is not ("jobs_concurrency_key_idx" or "jobs_processing_idx"));
        // Each probe is bounded: the last entry of each index, then at most the limit's (3) live entries of each.
        Assert.All(waiting.Concat(running), n => Assert.True(n.ActualRows * n.Loops <= 4L * keys,
            $"{n.Index} returned {n.ActualRows * n.Loops} rows for {keys} key(s):\n{plan.Text}"));
        Assert.True(plan.Root.Buffers < 100 + 40 * keys, $"the push touched {plan.Root.Buffers} buffers:\n{plan.Text}");
    }

    /// <summary>
    /// The plan reads the table only through <c>jobs_processing_idx</c> (and by ctid, id or unique key), which holds running rows only:
    /// none of the 16,000 waiting rows of the queue nor the 100,100 of the others. (Its entry counts are not asserted: the
    /// seeded table is shared, and each test's rolled-back seed leaves dead entries that a bitmap scan still returns.)
    /// </summary>
    private static void AssertReadsRunningRowsOnly(Plan plan)
    {
        Assert.DoesNotContain(plan.Nodes, n => n.Relation == "jobs" && n.Type == "Seq Scan");
        Assert.Contains(plan.Nodes, n => n.Index == "jobs_processing_idx");
        Assert.All(plan.Nodes.Where(n => n.Index is not null and not "jobs_pkey" and not "jobs_unique_key_idx" and not "job_state_counts_queue_idx" and not "queues_pkey"),
            n => Assert.Equal("jobs_processing_idx", n.Index));
    }

    private static NpgsqlParameter Bool(bool value) => new NpgsqlParameter<bool> { TypedValue = value, NpgsqlDbType = NpgsqlDbType.Boolean };
}
