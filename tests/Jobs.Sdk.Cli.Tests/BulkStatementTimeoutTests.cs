using Jobs.Sdk.Postgres.Tests;

namespace Jobs.Sdk.Cli.Tests;

/// <summary>
/// <c>jobs retry</c> over a big selection under the connection's short <c>statement_timeout</c> (as a role's setting on
/// managed PostgreSQL gives it), on any machine: <see cref="SlowBatchTrigger"/> makes every statement that changes more
/// than 100 of the queue's jobs run past the 500 ms, and one that changes no more pass. Before, the first batch of 1,000
/// was cancelled (57014) and the tool exited 75 having changed nothing, however often it was run again.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class BulkStatementTimeoutTests(PostgresFixture fixture) : IAsyncLifetime
{
    private const int Rows = 1_500; // a full batch of the walk (JobAdmin.BatchSize = 1000) and a short one
    private readonly CliSchema _db = new(fixture);

    public Task InitializeAsync() => _db.MigrateWithFailedEmailsAsync(Rows);

    public Task DisposeAsync() => _db.DisposeAsync().AsTask();

    [Fact]
    public async Task A_bulk_retry_whose_batches_run_past_statement_timeout_retries_every_job()
    {
        await SlowBatchTrigger.InstallAsync(_db.DataSource, "emails", 100, TimeSpan.FromSeconds(2), _db.Name);

        var result = await JobsTool.RunAsync(fixture.ConnectionString + ";Options=-c statement_timeout=500ms",
            "retry", "--schema", _db.Name, "--queue", "emails", "--state", "failed", "--json");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(Rows, result.Json.GetProperty("changed").GetInt32());
        Assert.Contains("retry: 1000 job(s) changed so far, 1 batch done.", result.Error);
        Assert.Equal(Rows, await _db.ScalarAsync($"""SELECT count(*) FROM "{_db.Name}".jobs WHERE state = 0"""));
        Assert.True(await SlowBatchTrigger.SleptAsync(_db.DataSource, _db.Name) >= 1, "No batch ran past the timeout: the test did not test it.");
    }

    [Fact]
    public async Task A_bulk_retry_of_which_a_single_job_runs_past_statement_timeout_names_the_setting_and_exits_75()
    {
        await SlowBatchTrigger.InstallAsync(_db.DataSource, "emails", 0, TimeSpan.FromSeconds(2), _db.Name);
        var ids = await IdsAsync(2);

        var result = await JobsTool.RunAsync(fixture.ConnectionString + ";Options=-c statement_timeout=500ms",
            ["retry", "--schema", _db.Name, .. ids]);

        Assert.True(result.ExitCode == 75, result.ToString());
        Assert.True(result.Error.Contains("statement_timeout of 500ms (set by the connection", StringComparison.Ordinal) &&
            result.Error.Contains("ALTER ROLE", StringComparison.Ordinal) && !result.Error.Contains("Run the command again for the rest", StringComparison.Ordinal),
            result.ToString());
        Assert.Equal(Rows, await _db.ScalarAsync($"""SELECT count(*) FROM "{_db.Name}".jobs WHERE state = 4"""));
    }

    private async Task<string[]> IdsAsync(int count)
    {
        await using var command = _db.DataSource.CreateCommand($"""SELECT id::text FROM "{_db.Name}".jobs ORDER BY id LIMIT {count}""");
        await using var reader = await command.ExecuteReaderAsync();
        var ids = new List<string>();
        while (await reader.ReadAsync())
        {
            ids.Add(reader.GetString(0));
        }

        return [.. ids];
    }
}
