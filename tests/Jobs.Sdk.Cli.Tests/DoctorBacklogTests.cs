using System.Text.Json;
using Jobs.Sdk.Postgres.Tests;

namespace Jobs.Sdk.Cli.Tests;

/// <summary>
/// <c>jobs doctor</c>'s unhandled-jobs check on a large due backlog reads a bounded number of due rows per queue and
/// priority (the longest waiting, where jobs no worker handles stay), not every due row in one statement: a backlog of a
/// million due jobs was counted whole, in one snapshot, by an operator's health check (issue 15). Each statement the tool
/// ran on the jobs table is taken from the database as it waited (<see cref="TableLockWatch"/>) and explained (EXPLAIN
/// ANALYZE: the rows each node read); nothing is timed.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class DoctorBacklogTests(PostgresFixture fixture) : IAsyncLifetime
{
    private const int Backlog = 30_000;
    private const int Window = 10_000; // DoctorSql.UnhandledWindow
    private readonly CliSchema _db = new(fixture);

    public async Task InitializeAsync() => await _db.MigrateAsync();

    public Task DisposeAsync() => _db.DisposeAsync().AsTask();

    [Fact]
    public async Task Doctor_reports_unhandled_jobs_of_a_large_due_backlog_reading_a_bounded_window_of_it()
    {
        // Queue backlog: 30,000 due jobs of a name no worker handles (no worker is alive), due one millisecond apart.
        await _db.ExecuteAsync($"""
            INSERT INTO "{_db.Name}".jobs (id, queue_name, name, payload, run_at)
            SELECT gen_random_uuid(), 'backlog', 'orphan', jsonb_build_object(), now() - interval '1 hour' + g * interval '1 ms'
            FROM generate_series(1, {Backlog}) g;
            """);
        await _db.ExecuteAsync($"VACUUM ANALYZE \"{_db.Name}\".jobs");

        var doctor = await TableLockWatch.StatementsOnJobsAsync(_db.DataSource, _db.Name, () => _db.RunAsync(1, ["doctor", "--json"]));
        Assert.True(doctor.Result.ExitCode == 2, doctor.Result.ToString());

        var unhandled = doctor.Statements.Select(s => s.Query).Where(q => q.Contains("job_names", StringComparison.Ordinal)).Distinct().ToList();
        Assert.NotEmpty(unhandled);
        foreach (var query in unhandled)
        {
            var (rows, plan) = await MostRowsReadAsync(query);
            Assert.True(rows <= Window, $"`jobs doctor`'s unhandled-jobs check read {rows} rows of the jobs table in one statement " +
                $"(a window is {Window}):\n{query}\n{plan}");
        }

        // At least the window's count, and said to be at least.
        Assert.Contains($"backlog/orphan: {Window}+", Check(doctor.Result.Json, "unhandled jobs"));
    }

    private static string Check(JsonElement doctor, string name)
        => doctor.GetProperty("checks").EnumerateArray().First(c => c.GetProperty("check").GetString() == name).GetProperty("detail").GetString()!;

    /// <summary>EXPLAIN ANALYZE of a read-only statement: the most rows one node read from the jobs table or one of its indexes.</summary>
    private async Task<(long Rows, string Plan)> MostRowsReadAsync(string query)
    {
        await using var command = _db.DataSource.CreateCommand("EXPLAIN (ANALYZE, FORMAT JSON) " + query);
        var json = (string)(await command.ExecuteScalarAsync())!;
        using var doc = JsonDocument.Parse(json);
        return (Most(doc.RootElement[0].GetProperty("Plan")), json);

        static long Most(JsonElement node)
        {
            var reads = (node.TryGetProperty("Relation Name", out var r) && r.GetString() == "jobs") || node.TryGetProperty("Index Name", out _)
                ? node.GetProperty("Actual Rows").GetInt64() * node.GetProperty("Actual Loops").GetInt64()
                  + (node.TryGetProperty("Rows Removed by Filter", out var removed) ? removed.GetInt64() : 0)
                : 0;
            return node.TryGetProperty("Plans", out var children) ? Math.Max(reads, children.EnumerateArray().Max(Most)) : reads;
        }
    }
}
