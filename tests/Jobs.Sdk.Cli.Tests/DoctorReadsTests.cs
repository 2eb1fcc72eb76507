using System.Text.Json;
using Jobs.Sdk.Postgres.Tests;
using Npgsql;

namespace Jobs.Sdk.Cli.Tests;

/// <summary>
/// Issue 15: <c>jobs doctor</c>'s checks of expired leases and of unhandled due jobs read the rows they report on (the
/// processing rows, the due runnable rows), not the finished history and the delayed backlog around them. Each statement
/// the tool ran on the jobs table is taken from the database as it waited (<see cref="TableLockWatch"/>) and explained
/// (EXPLAIN ANALYZE, BUFFERS: pages grow with the rows a plan walks, not with the machine's speed); nothing is timed.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class DoctorReadsTests(PostgresFixture fixture) : IAsyncLifetime
{
    private const int History = 100_000;
    private readonly CliSchema _db = new(fixture);

    public async Task InitializeAsync() => await _db.MigrateAsync();

    public Task DisposeAsync() => _db.DisposeAsync().AsTask();

    [Fact]
    public async Task Doctor_reports_expired_leases_and_unhandled_jobs_without_reading_the_history_or_the_delayed_backlog()
    {
        // 100,000 jobs completed one millisecond apart and 20,000 delayed ones; queue emails: a job whose worker died and 3 due jobs no worker handles.
        await _db.ExecuteAsync($"""
            INSERT INTO "{_db.Name}".jobs (id, queue_name, name, payload, state, attempts, finished_at, updated_at)
            SELECT gen_random_uuid(), 'history', 'done', jsonb_build_object(), 3, 1, t, t
            FROM generate_series(1, {History}) g, LATERAL (SELECT now() - g * interval '1 ms' AS t) a;
            INSERT INTO "{_db.Name}".jobs (id, queue_name, name, payload, run_at)
            SELECT gen_random_uuid(), 'later', 'delayed', jsonb_build_object(), now() + interval '1 day' FROM generate_series(1, 20000);
            INSERT INTO "{_db.Name}".jobs (id, queue_name, name, payload, state, attempts, worker_id, lease_token, lease_expires_at, started_at)
            VALUES (gen_random_uuid(), 'emails', 'stuck', jsonb_build_object(), 1, 1, 'dead-worker', gen_random_uuid(), now() - interval '10 minutes', now());
            INSERT INTO "{_db.Name}".jobs (id, queue_name, name, payload)
            SELECT gen_random_uuid(), 'emails', 'orphan', jsonb_build_object() FROM generate_series(1, 3);
            """);
        await _db.ExecuteAsync($"VACUUM ANALYZE \"{_db.Name}\".jobs");

        var doctor = await TableLockWatch.StatementsOnJobsAsync(_db.DataSource, _db.Name, () => _db.RunAsync(1, ["doctor", "--json"]));
        Assert.True(doctor.Result.ExitCode == 2, doctor.Result.ToString());
        Assert.Contains("emails: 1", Check(doctor.Result.Json, "expired leases"));
        Assert.Contains("emails/orphan: 3", Check(doctor.Result.Json, "unhandled jobs"));
        Assert.DoesNotContain("delayed", Check(doctor.Result.Json, "unhandled jobs"));

        var reads = doctor.Statements.Select(s => s.Query).Where(q => q.Contains($"\"{_db.Name}\".jobs", StringComparison.Ordinal)).Distinct().ToList();
        Assert.Equal(2, reads.Count); // expired leases, unhandled jobs
        var plans = new List<(string Query, long Buffers, bool SeqScan, string Plan)>();
        foreach (var query in reads)
        {
            var (buffers, seqScan, plan) = await ExplainAsync(query);
            plans.Add((query, buffers, seqScan, plan));
        }

        // The 100,000 finished rows fill hundreds of pages of the state index and more of the table; the 20,000 delayed
        // ones over a hundred of the runnable index.
        Assert.All(plans, p => Assert.True(!p.SeqScan && p.Buffers < 100,
            $"`jobs doctor` touched {p.Buffers} pages{(p.SeqScan ? ", reading the jobs table sequentially," : "")} for a handful of rows:\n{p.Query}\n{p.Plan}"));
    }

    private static string Check(JsonElement doctor, string name)
        => doctor.GetProperty("checks").EnumerateArray().First(c => c.GetProperty("check").GetString() == name).GetProperty("detail").GetString()!;

    /// <summary>EXPLAIN (ANALYZE, BUFFERS) of a read-only statement: the pages it touched and whether it read the jobs table sequentially.</summary>
    private async Task<(long Buffers, bool SeqScan, string Plan)> ExplainAsync(string query)
    {
        await using var command = _db.DataSource.CreateCommand("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + query);
        var json = (string)(await command.ExecuteScalarAsync())!;
        using var doc = JsonDocument.Parse(json);
        var root = doc.RootElement[0].GetProperty("Plan");
        return (root.GetProperty("Shared Hit Blocks").GetInt64() + root.GetProperty("Shared Read Blocks").GetInt64(), SeqScanOfJobs(root), json);

        static bool SeqScanOfJobs(JsonElement node)
            => (node.GetProperty("Node Type").GetString() == "Seq Scan" && node.TryGetProperty("Relation Name", out var r) && r.GetString() == "jobs")
                || (node.TryGetProperty("Plans", out var children) && children.EnumerateArray().Any(SeqScanOfJobs));
    }
}
