using System.Text.Json;
using System.Transactions;
using Jobs.Sdk.Testing;
using Npgsql;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// A single keyed push (<see cref="KeyAdmissionSql.Push"/>) looks up its key's last unfinished job (admission). It is a
/// prepared statement, as a keyed batch was (<see cref="KeyedBatchPlanTests"/>): after five executions PostgreSQL may
/// switch a session to a generic plan, planned on the table's statistics at that moment, and keep it until the table is
/// analyzed again. Built while they said the table was small (a young queue, analyzed at a few dozen rows), that plan
/// looked keys up with sequential scans, and each push of a burst on such a session read the whole table twice
/// (12-23 million rows read for 20,000 pushes). A burst of keyed pushes must never look its keys up that way.
/// <para>
/// Also when the data source sets Npgsql's automatic preparation (<c>Max Auto Prepare</c>): a push in a caller's (or the
/// ambient) transaction, which the driver runs unprepared, is then prepared by Npgsql after <c>Auto Prepare Min Usages</c>
/// runs on a connection, and PostgreSQL could switch it to a generic plan all the same.
/// </para>
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class KeyedPushPlanTests(PostgresFixture fixture)
{
    private const int Pushers = 16;

    /// <summary>Where a test's pushes run.</summary>
    public enum PushIn
    {
        /// <summary>A connection of the driver's own.</summary>
        Own,

        /// <summary>A transaction of the caller's, on a connection of the driver's data source.</summary>
        CallersTransaction,

        /// <summary>The caller's ambient transaction (a <c>TransactionScope</c>, READ COMMITTED).</summary>
        AmbientTransaction,
    }

    [Theory]
    [InlineData(false, PushIn.Own)]
    [InlineData(false, PushIn.CallersTransaction)]
    [InlineData(true, PushIn.Own)] // Max Auto Prepare=64;Auto Prepare Min Usages=2 on the data source
    [InlineData(true, PushIn.CallersTransaction)]
    [InlineData(true, PushIn.AmbientTransaction)]
    public async Task A_burst_of_single_keyed_pushes_into_a_young_queue_never_reads_the_jobs_table_with_a_sequential_scan(bool autoPrepare, PushIn pushIn)
    {
        const int Young = 16;
        const int Pushes = 5_000; // 2 of 16 sessions on the bad plan read millions of rows within it (before the fix: 12,244,598 in 20,000 pushes)
        const int Keys = 1_000;
        var schema = "keyplan_" + Guid.NewGuid().ToString("N")[..8];
        await using var direct = fixture.CreateDataSource();
        await using var ds = fixture.CreateDataSource(b =>
        {
            b.MaxPoolSize = Pushers;
            if (autoPrepare)
            {
                (b.MaxAutoPrepare, b.AutoPrepareMinUsages) = (64, 2);
            }
        });
        try
        {
            await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<KeyedRecordJob>((_, _, _) => Task.CompletedTask),
                driver: o => o.Schema = schema, dataSource: ds);
            // A young queue: its first keyed jobs, and the table analyzed at that size, as autovacuum analyzes a table after
            // its first 50 changed rows. Autovacuum is then kept away, as it is during a burst until its next pass.
            for (var i = 0; i < Young; i++)
            {
                await q.Queue.PushAsync(new KeyedRecordJob(i % Keys * 1_000 + 999));
            }

            await direct.ExecAsync($"ALTER TABLE {schema}.jobs SET (autovacuum_enabled = false); ANALYZE {schema}.jobs");

            var next = -1;
            await Task.WhenAll(Enumerable.Range(0, Pushers).Select(_ => Task.Run(async () =>
            {
                for (var i = Interlocked.Increment(ref next); i < Pushes; i = Interlocked.Increment(ref next))
                {
                    var job = new KeyedRecordJob(i % Keys * 1_000 + i / Keys);
                    if (pushIn == PushIn.Own)
                    {
                        await q.Queue.PushAsync(job);
                        continue;
                    }

                    if (pushIn == PushIn.AmbientTransaction)
                    {
                        // READ COMMITTED, as the caller's transaction: a keyed push admits its job (and looks its key up) only there.
                        using var scope = new TransactionScope(TransactionScopeOption.Required,
                            new TransactionOptions { IsolationLevel = IsolationLevel.ReadCommitted }, TransactionScopeAsyncFlowOption.Enabled);
                        await q.Queue.PushAsync(job);
                        scope.Complete();
                        continue;
                    }

                    await using var connection = await ds.OpenConnectionAsync();
                    await using var transaction = await connection.BeginTransactionAsync();
                    await q.Queue.PushAsync(job, transaction);
                    await transaction.CommitAsync();
                }
            })));

            // Every pooled session sends its statistics before the reading.
            var (scans, scanned) = await JobsTableSeqReads.ReadAsync(direct, schema, Young + Pushes, ds);

            var plans = await SessionPlansAsync(ds, q.Queue.QueueName);
            // In a caller's transaction the push is planned for each execution: what a session would run next in plan_cache_mode
            // auto (EXPLAIN EXECUTE of a statement Npgsql prepared automatically) is not what the push runs; the rows read tell.
            var seq = plans.Where(p => p.SeqScan && (!autoPrepare || pushIn == PushIn.Own)).ToList();
            Assert.True(scanned < Pushes && seq.Count == 0,
                $"{Pushes:N0} keyed pushes read {scanned:N0} rows of the jobs table in {scans:N0} sequential scans; {seq.Count} of {plans.Count} " +
                $"pooled sessions look keys up with a sequential scan ({string.Join(", ", plans.Select(p => $"{p.Generic} generic / {p.Custom} custom runs"))})");
            Assert.Equal(Young + Pushes, await direct.ScalarAsync($"SELECT count(*) FROM {schema}.jobs WHERE concurrency_key IS NOT NULL"));
            // The scenario holds: in a caller's transaction, Npgsql prepared the pushes on its own.
            Assert.True(!autoPrepare || pushIn == PushIn.Own || plans.Sum(p => p.Custom + p.Generic) >= Pushes / 2,
                $"Npgsql prepared {plans.Sum(p => p.Custom + p.Generic):N0} of {Pushes:N0} pushes on its own ({plans.Count} sessions)");
        }
        finally
        {
            await direct.ExecAsync($"DROP SCHEMA IF EXISTS {schema} CASCADE");
        }
    }

    private sealed record SessionPlan(string Name, long Generic, long Custom, bool SeqScan);

    /// <summary>
    /// The admission statement of each pooled session, with its plan counts and the plan the session would run next
    /// (<c>EXPLAIN EXECUTE</c> of its own prepared statement, chosen by the same rule as an execution).
    /// </summary>
    private static async Task<List<SessionPlan>> SessionPlansAsync(NpgsqlDataSource ds, string queue)
    {
        var connections = new List<NpgsqlConnection>();
        try
        {
            for (var i = 0; i < Pushers; i++)
            {
                connections.Add(await ds.OpenConnectionAsync());
            }

            var plans = new List<SessionPlan>();
            foreach (var connection in connections)
            {
                var found = new List<(string Name, long Generic, long Custom, string[] Types)>();
                await using (var read = new NpgsqlCommand(
                    "SELECT name, generic_plans, custom_plans, parameter_types::text[] FROM pg_prepared_statements WHERE statement LIKE '%placed AS MATERIALIZED%'",
                    connection))
                await using (var reader = await read.ExecuteReaderAsync())
                {
                    while (await reader.ReadAsync())
                    {
                        found.Add((reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetFieldValue<string[]>(3)));
                    }
                }

                foreach (var (name, generic, custom, types) in found)
                {
                    var arguments = types.Select((t, i) => i switch
                    {
                        0 => $"'{queue}'::{t}",
                        1 => $"gen_random_uuid()::{t}",
                        9 => $"'{KeyedRecordJob.JobName}:7'::{t}",
                        10 => $"1::{t}",
                        _ => $"NULL::{t}",
                    });
                    await using var explain = new NpgsqlCommand($"EXPLAIN (FORMAT JSON) EXECUTE {name} ({string.Join(", ", arguments)})", connection);
                    var json = (string)(await explain.ExecuteScalarAsync())!;
                    plans.Add(new SessionPlan(name, generic, custom, SeqScanOfJobs(JsonDocument.Parse(json).RootElement[0].GetProperty("Plan"))));
                }
            }

            return plans;
        }
        finally
        {
            foreach (var connection in connections)
            {
                await connection.DisposeAsync();
            }
        }
    }

    private static bool SeqScanOfJobs(JsonElement node)
        => (node.GetProperty("Node Type").GetString() == "Seq Scan" && node.TryGetProperty("Relation Name", out var r) && r.GetString() == "jobs")
            || (node.TryGetProperty("Plans", out var children) && children.EnumerateArray().Any(SeqScanOfJobs));
}
