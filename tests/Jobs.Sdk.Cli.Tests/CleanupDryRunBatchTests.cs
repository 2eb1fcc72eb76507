using Jobs.Sdk.Postgres.Tests;

namespace Jobs.Sdk.Cli.Tests;

/// <summary>
/// Issue 15: <c>jobs cleanup --dry-run</c> on a large history counts in bounded batches, each its own short transaction,
/// as the cleanup deletes, so it never holds one snapshot over every row it counts (a snapshot held open slows every
/// concurrent claim). Observed from the database, not timed: the test holds the jobs table locked and hands the lock over
/// between two of its own sessions, so the tool's every statement on the table waits and is seen, and each one's
/// transaction must end before the next can start.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class CleanupDryRunBatchTests(PostgresFixture fixture) : IAsyncLifetime
{
    private const int BatchSize = 5_000; // CleanupSql.BatchSize
    private const int Old = 12_000;      // failed 2 to 3 days ago: three batches (5,000, 5,000 and 2,000)
    private readonly CliSchema _db = new(fixture);

    public async Task InitializeAsync() => await _db.MigrateAsync();

    public Task DisposeAsync() => _db.DisposeAsync().AsTask();

    [Fact]
    public async Task A_dry_run_of_a_large_cleanup_counts_one_batch_per_transaction_and_counts_what_the_cleanup_then_deletes()
    {
        // Queue bulk: 12,000 failed jobs older than a day (three to a timestamp, so batch edges split groups of equal
        // updated_at) and 3,000 failed just now; queue other: 1,000 old failed jobs. --failed 1d --queue bulk: 12,000.
        await _db.ExecuteAsync($"""
            INSERT INTO "{_db.Name}".jobs (id, queue_name, name, payload, state, attempts, finished_at, updated_at)
            SELECT gen_random_uuid(), 'bulk', 'plan', jsonb_build_object(), 4, 1, t, t
            FROM generate_series(1, {Old}) g, LATERAL (SELECT now() - interval '2 days' - (g / 3) * interval '1 second' AS t) a;
            INSERT INTO "{_db.Name}".jobs (id, queue_name, name, payload, state, attempts, finished_at, updated_at)
            SELECT gen_random_uuid(), 'bulk', 'plan', jsonb_build_object(), 4, 1, now(), now() FROM generate_series(1, 3000);
            INSERT INTO "{_db.Name}".jobs (id, queue_name, name, payload, state, attempts, finished_at, updated_at)
            SELECT gen_random_uuid(), 'other', 'plan', jsonb_build_object(), 4, 1, now() - interval '3 days', now() - interval '3 days'
            FROM generate_series(1, 1000);
            ANALYZE "{_db.Name}".jobs;
            """);

        var counts = await TableLockWatch.StatementsOnJobsAsync(_db.DataSource, _db.Name, () => _db.RunAsync(1, ["cleanup", "--failed", "1d", "--queue", "bulk", "--dry-run", "--json"]));
        Assert.True(counts.Result.ExitCode == 0, counts.Result.ToString());
        Assert.Equal(Old, counts.Result.Json.GetProperty("wouldDelete").GetInt64());
        // A statement seen is a transaction. The tool prepares a statement on each connection once (a transaction of its
        // own, which counts nothing): one less per connection and text is how many counted.
        var counting = counts.Statements.Where(s => s.Query.Contains("count(", StringComparison.Ordinal)).ToList();
        var executions = counting.Count - counting.Distinct().Count();
        // One transaction per batch of at most BatchSize rows: 12,000 rows take three.
        Assert.True(executions >= (Old + BatchSize - 1) / BatchSize,
            $"the dry run counted {Old} rows in {executions} transaction(s) on the jobs table " +
            $"(batches of {BatchSize} take {(Old + BatchSize - 1) / BatchSize}); it waited for the table {counting.Count} time(s) in:\n" +
            string.Join("\n---\n", counting.Distinct().Select(s => $"pid {s.Pid}: {s.Query}")));

        var real = await _db.RunAsync(1, ["cleanup", "--failed", "1d", "--queue", "bulk", "--json"]);
        Assert.True(real.ExitCode == 0, real.ToString());
        Assert.Equal(Old, real.Json.GetProperty("deleted").GetInt64());
        Assert.Equal(3000, await _db.ScalarAsync($"SELECT count(*) FROM \"{_db.Name}\".jobs WHERE queue_name = 'bulk'"));
        Assert.Equal(1000, await _db.ScalarAsync($"SELECT count(*) FROM \"{_db.Name}\".jobs WHERE queue_name = 'other'"));
    }
}
