using Jobs.Sdk.Postgres.Tests;

namespace Jobs.Sdk.Cli.Tests;

/// <summary>
/// Issue 15: a bulk command by a payload-text filter (<c>jobs delete --text ...</c>, with and without <c>--dry-run</c>)
/// finds its jobs in bounded windows of rows, each its own statement and transaction, as <c>jobs list</c> searches: a
/// needle among a large history never makes one statement read the whole history under one snapshot. Observed from the
/// database (<see cref="TableLockWatch"/>), not timed.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class BulkTextFilterBatchTests(PostgresFixture fixture) : IAsyncLifetime
{
    private const int Rows = 25_000;      // queue bulk
    private const int ScanLimit = 10_000; // JobQuerySql.ScanLimit: rows one text-search statement reads at most
    private readonly CliSchema _db = new(fixture);

    public async Task InitializeAsync() => await _db.MigrateAsync();

    public Task DisposeAsync() => _db.DisposeAsync().AsTask();

    [Fact]
    public async Task A_bulk_delete_by_payload_text_reads_the_history_one_bounded_window_per_transaction_and_deletes_what_its_dry_run_counted()
    {
        // Queue bulk: 25,000 completed jobs, three of which mention the needle; queue other: 100 more that mention it.
        await using (var seed = _db.DataSource.CreateCommand($"""
            INSERT INTO "{_db.Name}".jobs (id, queue_name, name, payload, state, attempts, finished_at)
            SELECT gen_random_uuid(), 'bulk', 'plan', jsonb_build_object('n', g, 'tag', CASE WHEN g IN (1, 12345, {Rows}) THEN 'needle' ELSE 'hay' END), 3, 1, now()
            FROM generate_series(1, {Rows}) g;
            INSERT INTO "{_db.Name}".jobs (id, queue_name, name, payload, state, attempts, finished_at)
            SELECT gen_random_uuid(), 'other', 'plan', jsonb_build_object('tag', 'needle'), 3, 1, now() FROM generate_series(1, 100);
            ANALYZE "{_db.Name}".jobs;
            """))
        {
            await seed.ExecuteNonQueryAsync();
        }

        var dry = await TableLockWatch.StatementsOnJobsAsync(_db.DataSource, _db.Name,
            () => _db.RunAsync(1, ["delete", "--queue", "bulk", "--text", "needle", "--dry-run", "--json"]));
        Assert.True(dry.Result.ExitCode == 0, dry.Result.ToString());
        Assert.Equal(3, dry.Result.Json.GetProperty("wouldChange").GetInt32());
        // Each statement seen is a transaction (the admin store prepares none).
        var searches = dry.Statements.Where(s => s.Query.Contains("strpos(lower(payload", StringComparison.Ordinal)).ToList();
        Assert.True(searches.Count >= (Rows + ScanLimit - 1) / ScanLimit,
            $"the dry run searched {Rows} jobs' payloads in {searches.Count} transaction(s) (windows of {ScanLimit} rows take " +
            $"{(Rows + ScanLimit - 1) / ScanLimit}):\n{string.Join("\n---\n", searches.Select(s => $"pid {s.Pid}: {s.Query}"))}");

        var real = await TableLockWatch.StatementsOnJobsAsync(_db.DataSource, _db.Name,
            () => _db.RunAsync(1, ["delete", "--queue", "bulk", "--text", "needle", "--json"]));
        Assert.True(real.Result.ExitCode == 0, real.Result.ToString());
        Assert.Equal(3, real.Result.Json.GetProperty("changed").GetInt32());
        Assert.True(real.Statements.Count(s => s.Query.Contains("strpos(lower(payload", StringComparison.Ordinal)) >= (Rows + ScanLimit - 1) / ScanLimit,
            $"the delete searched {Rows} jobs' payloads in fewer transactions than windows:\n{string.Join("\n---\n", real.Statements.Select(s => s.Query))}");
        await using var left = _db.DataSource.CreateCommand(
            $"SELECT count(*) FILTER (WHERE queue_name = 'bulk'), count(*) FILTER (WHERE payload->>'tag' = 'needle') FROM \"{_db.Name}\".jobs");
        await using var reader = await left.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal((long)Rows - 3, reader.GetInt64(0));
        Assert.Equal(100, reader.GetInt64(1));
    }

    [Fact]
    public async Task A_bulk_delete_by_payload_text_whose_batches_fill_inside_and_across_windows_deletes_each_match_once_as_its_dry_run_counted()
    {
        // Every 7th of 25,000 jobs mentions the needle: 3,571 matches, batches of 1,000 ids ending inside windows of 10,000 rows.
        await using (var seed = _db.DataSource.CreateCommand($"""
            INSERT INTO "{_db.Name}".jobs (id, queue_name, name, payload, state, attempts, finished_at)
            SELECT gen_random_uuid(), 'bulk', 'plan', jsonb_build_object('n', g, 'tag', CASE WHEN g % 7 = 0 THEN 'needle' ELSE 'hay' END), 3, 1, now()
            FROM generate_series(1, {Rows}) g;
            """))
        {
            await seed.ExecuteNonQueryAsync();
        }

        var dry = await _db.RunAsync(1, ["delete", "--queue", "bulk", "--text", "needle", "--dry-run", "--json"]);
        Assert.True(dry.ExitCode == 0, dry.ToString());
        Assert.Equal(Rows / 7, dry.Json.GetProperty("matched").GetInt32());
        Assert.Equal(Rows / 7, dry.Json.GetProperty("wouldChange").GetInt32());

        var real = await _db.RunAsync(1, ["delete", "--queue", "bulk", "--text", "needle", "--json"]);
        Assert.True(real.ExitCode == 0, real.ToString());
        Assert.Equal(Rows / 7, real.Json.GetProperty("changed").GetInt32());
        await using var left = _db.DataSource.CreateCommand($"SELECT count(*), count(*) FILTER (WHERE payload->>'tag' = 'needle') FROM \"{_db.Name}\".jobs");
        await using var reader = await left.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal((long)Rows - Rows / 7, reader.GetInt64(0));
        Assert.Equal(0, reader.GetInt64(1));
    }
}
