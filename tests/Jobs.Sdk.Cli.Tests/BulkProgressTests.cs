using Jobs.Sdk.Postgres.Tests;

namespace Jobs.Sdk.Cli.Tests;

/// <summary>
/// A bulk action over many batches says how far it got while it runs: a line on stderr after each full batch (the jobs
/// changed so far, the batches done), never on stdout, which holds only the result (the JSON document with --json). A
/// real process against a real PostgreSQL; the test holds a row of the third batch locked, so the tool is still running
/// when the first two batches' lines must have come (no sleeps).
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class BulkProgressTests(PostgresFixture fixture) : IAsyncLifetime
{
    private const int Rows = 2_500; // three batches (JobAdmin.BatchSize = 1000)
    private readonly CliSchema _db = new(fixture);

    public Task InitializeAsync() => _db.MigrateWithFailedEmailsAsync(Rows);

    public Task DisposeAsync() => _db.DisposeAsync().AsTask();

    [Fact]
    public async Task A_bulk_retry_of_three_batches_reports_each_full_batch_on_stderr_while_it_runs_and_stdout_stays_json()
    {
        // The last job (id order: the walk's) is in the third batch: locked until the progress of the first two was seen.
        await using var connection = await _db.DataSource.OpenConnectionAsync();
        await using var holding = await connection.BeginTransactionAsync();
        await using (var hold = new Npgsql.NpgsqlCommand($"""SELECT id FROM "{_db.Name}".jobs ORDER BY id DESC LIMIT 1 FOR UPDATE""", connection, holding))
        {
            await hold.ExecuteScalarAsync();
        }

        using var running = _db.Start(1, ["retry", "--queue", "emails", "--state", "failed", "--json", "--timeout", "50"]);
        var second = await running.ErrorLineAsync(l => l.Contains("2000 job(s) changed so far"), TimeSpan.FromSeconds(40));
        Assert.False(running.HasExited, "the tool must still wait on the third batch's locked row");
        Assert.Contains("2 batches done", second);
        await holding.RollbackAsync();
        var result = await running.ExitAsync();

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(Rows, result.Json.GetProperty("changed").GetInt32());
        Assert.DoesNotContain("so far", result.Out);
        var lines = result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["retry: 1000 job(s) changed so far, 1 batch done", "retry: 2000 job(s) changed so far, 2 batches done"],
            lines.Select(l => l[..l.IndexOf(" done", StringComparison.Ordinal)] + " done"));
        Assert.Equal(0, await _db.ScalarAsync($"""SELECT count(*) FROM "{_db.Name}".jobs WHERE state = 4"""));
    }
}
