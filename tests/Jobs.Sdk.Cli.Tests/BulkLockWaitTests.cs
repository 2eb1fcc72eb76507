using Jobs.Sdk.Postgres.Tests;
using Npgsql;

namespace Jobs.Sdk.Cli.Tests;

/// <summary>
/// <c>jobs retry</c> over a selection one of whose job rows another session's open transaction holds locked (a user's
/// transaction that updated the row and was left open), under the connection's <c>statement_timeout</c> of 500 ms. Before,
/// the batch holding the row waited until the timeout, was halved about ten times down to the locked job, and the tool
/// exited 75 blaming a slow statement, with the jobs after that batch not retried. Now every other job is retried, and the
/// tool exits 75 naming the job left, the session that holds it and what to do.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class BulkLockWaitTests(PostgresFixture fixture) : IAsyncLifetime
{
    private const int Rows = 1_500; // a full batch of the walk (JobAdmin.BatchSize = 1000) and a short one
    private readonly CliSchema _db = new(fixture);

    public Task InitializeAsync() => _db.MigrateWithFailedEmailsAsync(Rows);

    public Task DisposeAsync() => _db.DisposeAsync().AsTask();

    [Fact]
    public async Task A_bulk_retry_over_a_row_an_open_transaction_holds_retries_every_other_job_and_names_the_holder()
    {
        string locked;
        await using (var read = _db.DataSource.CreateCommand($"""SELECT id::text FROM "{_db.Name}".jobs ORDER BY id OFFSET 700 LIMIT 1"""))
        {
            locked = (string)(await read.ExecuteScalarAsync())!;
        }

        await using var holderSource = fixture.CreateDataSource(b => (b.ApplicationName, b.Pooling) = ("billing-sync", false));
        await using var holder = await holderSource.OpenConnectionAsync();
        await using var transaction = await holder.BeginTransactionAsync();
        await using (var update = new NpgsqlCommand($"""UPDATE "{_db.Name}".jobs SET priority = priority WHERE id = '{locked}'""", holder, transaction))
        {
            Assert.Equal(1, await update.ExecuteNonQueryAsync());
        }

        var result = await JobsTool.RunAsync(fixture.ConnectionString + ";Options=-c statement_timeout=500ms",
            "retry", "--schema", _db.Name, "--queue", "emails", "--state", "failed", "--json");

        Assert.True(result.ExitCode == 75 && result.Error.Contains($"pid {holder.ProcessID}", StringComparison.Ordinal)
            && result.Error.Contains("'billing-sync'", StringComparison.Ordinal) && result.Error.Contains("pg_terminate_backend", StringComparison.Ordinal)
            && result.Error.Contains(locked, StringComparison.Ordinal), result.ToString());
        Assert.Equal(Rows - 1, result.Json.GetProperty("changed").GetInt32());
        Assert.Equal([locked], result.Json.GetProperty("locked").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(Rows - 1, await _db.ScalarAsync($"""SELECT count(*) FROM "{_db.Name}".jobs WHERE state = 0"""));
    }
}
