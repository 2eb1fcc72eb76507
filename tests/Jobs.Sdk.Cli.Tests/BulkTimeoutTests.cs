using Jobs.Sdk.Postgres.Tests;

namespace Jobs.Sdk.Cli.Tests;

/// <summary>
/// A bulk retry over a big queue whose later batch waits on a lock past the command timeout: the batches before it stay
/// committed. The operator (and a script) must learn how many jobs were changed, that the timeout ended it and how to raise
/// it, and get the "try again" exit code (75), not the one of a wrong command line. The test holds a row of the second
/// batch locked (no sleeps): the command's own timeout ends the wait.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class BulkTimeoutTests(PostgresFixture fixture) : IAsyncLifetime
{
    private const int Rows = 1_500; // more than one batch (JobAdmin.BatchSize = 1000)
    private readonly CliSchema _db = new(fixture);

    public async Task InitializeAsync()
    {
        await _db.MigrateAsync();
        await _db.ExecuteAsync($"""
            INSERT INTO "{_db.Name}".jobs (id, queue_name, name, payload, state, attempts, finished_at)
            SELECT gen_random_uuid(), 'emails', 'send-email', jsonb_build_object('n', g), 4, 1, now() FROM generate_series(1, {Rows}) g
            """);
    }

    public Task DisposeAsync() => _db.DisposeAsync().AsTask();

    [Fact]
    public async Task A_bulk_retry_stopped_by_the_command_timeout_says_how_many_it_changed_and_exits_75()
    {
        // The last job (id order: the walk's) is in the second batch: held locked until the tool exited.
        await using var connection = await _db.DataSource.OpenConnectionAsync();
        await using var holding = await connection.BeginTransactionAsync();
        await using (var hold = new Npgsql.NpgsqlCommand($"""SELECT id FROM "{_db.Name}".jobs ORDER BY id DESC LIMIT 1 FOR UPDATE""", connection, holding))
        {
            await hold.ExecuteScalarAsync();
        }

        var result = await JobsTool.RunAsync(fixture.ConnectionString + ";Command Timeout=3",
            "retry", "--schema", _db.Name, "--queue", "emails", "--state", "failed", "--json");
        await holding.RollbackAsync();

        Assert.True(result.ExitCode == 75, result.ToString());
        Assert.True(result.Out.Length == 0, result.ToString());
        Assert.Contains("1000 job(s)", result.Error);
        Assert.Contains("Command Timeout", result.Error);
        Assert.Equal(1000, await _db.ScalarAsync($"""SELECT count(*) FROM "{_db.Name}".jobs WHERE state <> 4"""));
        Assert.Equal(1, await _db.ScalarAsync($"""SELECT count(*) FROM "{_db.Name}".audit_log WHERE action = 'retry (failed part-way)' AND rows_changed = 1000"""));
    }

    [Fact]
    public async Task A_cleanup_stopped_by_the_command_timeout_says_where_it_stopped_and_exits_75()
    {
        await _db.ExecuteAsync($"""UPDATE "{_db.Name}".jobs SET state = 3, finished_at = now() - interval '9 days', updated_at = now() - interval '9 days'""");

        // Writes to the jobs table wait for this lock (reads do not): the cleanup's first delete waits past its timeout.
        await using var connection = await _db.DataSource.OpenConnectionAsync();
        await using var holding = await connection.BeginTransactionAsync();
        await using (var hold = new Npgsql.NpgsqlCommand($"""LOCK TABLE "{_db.Name}".jobs IN EXCLUSIVE MODE""", connection, holding))
        {
            await hold.ExecuteNonQueryAsync();
        }

        var result = await JobsTool.RunAsync(fixture.ConnectionString + ";Command Timeout=2",
            "cleanup", "--schema", _db.Name, "--completed", "7d", "--json");
        await holding.RollbackAsync();

        Assert.True(result.ExitCode == 75, result.ToString());
        Assert.True(result.Out.Length == 0, result.ToString());
        Assert.Contains("cleanup stopped in queue 'emails'", result.Error);
        Assert.Contains("Command Timeout", result.Error);
        Assert.Equal(Rows, await _db.ScalarAsync($"""SELECT count(*) FROM "{_db.Name}".jobs"""));
    }
}
