using System.Text.Json;
using Jobs.Sdk.Postgres.Tests;
using Npgsql;

namespace Jobs.Sdk.Cli.Tests;

/// <summary>
/// <c>jobs doctor</c>'s table bloat check covers the job schema's tables, not the jobs table alone: the per-state counts
/// (<c>job_state_counts</c>, a delta row per changing statement, compacted by deletes), the workers' heartbeats and the
/// schedule entries churn too, and a vacuum held back (a long transaction, autovacuum off or behind) leaves their dead rows
/// for every <c>jobs status</c>, dashboard page and claim's count to read through.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class DoctorBloatTests(PostgresFixture fixture) : IAsyncLifetime
{
    private readonly CliSchema _db = new(fixture);

    public async Task InitializeAsync() => await _db.MigrateAsync();

    public Task DisposeAsync() => _db.DisposeAsync().AsTask();

    [Fact]
    public async Task Dead_rows_of_the_per_state_counts_are_a_problem_naming_the_table_and_its_vacuum()
    {
        // 150,000 delta rows compacted away (zero deltas: the counts stay right) with no vacuum since: as a vacuum held back leaves them.
        await using (var connection = await _db.DataSource.OpenConnectionAsync())
        {
            await using var churn = new NpgsqlCommand($"""
                ALTER TABLE "{_db.Name}".job_state_counts SET (autovacuum_enabled = false);
                INSERT INTO "{_db.Name}".job_state_counts (queue_name, state, n) SELECT 'emails', 0, 0 FROM generate_series(1, 150000);
                DELETE FROM "{_db.Name}".job_state_counts WHERE queue_name = 'emails';
                """, connection);
            await churn.ExecuteNonQueryAsync();
            await using var flush = new NpgsqlCommand("SELECT pg_stat_force_next_flush()", connection);
            await flush.ExecuteNonQueryAsync();
            await using var idle = new NpgsqlCommand("SELECT 1", connection);
            await idle.ExecuteNonQueryAsync();
        }

        var result = await _db.RunAsync(1, ["doctor", "--json"]);

        var bloat = result.Json.GetProperty("checks").EnumerateArray().Where(c => c.GetProperty("check").GetString() == "table bloat").ToArray();
        Assert.True(bloat is [var check] && check.GetProperty("verdict").GetString() == "problem"
                && check.GetProperty("detail").GetString()!.Contains("job_state_counts", StringComparison.Ordinal)
                && check.GetProperty("advice").GetString()!.Contains($"VACUUM (ANALYZE) {_db.Name}.job_state_counts".Replace(_db.Name, $"\"{_db.Name}\"", StringComparison.Ordinal), StringComparison.Ordinal),
            $"`jobs doctor` should report job_state_counts' 150,000 dead rows (no live one) as a problem, with the VACUUM to run:\n{result}");
        Assert.Equal(2, result.ExitCode);
    }
}
