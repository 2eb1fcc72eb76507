using Jobs.Sdk.Postgres.Tests;
using Npgsql;

namespace Jobs.Sdk.Cli.Tests;

/// <summary>
/// The database refuses or does not answer: one line on stderr that says what is wrong and what to check, the exit code of
/// its class (69 unreachable, 75 timed out, 77 no rights), no stack trace, nothing on stdout.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class DatabaseErrorTests(PostgresFixture fixture) : IAsyncLifetime
{
    private readonly CliSchema _db = new(fixture);

    public async Task InitializeAsync() => await _db.MigrateAsync();

    public Task DisposeAsync() => _db.DisposeAsync().AsTask();

    private static void AssertOneErrorLine(JobsTool.Result result, int exitCode, params string[] mentions)
    {
        Assert.True(result.ExitCode == exitCode, result.ToString());
        Assert.True(result.Out.Length == 0, result.ToString());
        var lines = result.Error.TrimEnd().Split('\n');
        Assert.True(lines.Length == 1 && lines[0].StartsWith("error: ", StringComparison.Ordinal), "expected one error line:\n" + result);
        foreach (var mention in mentions)
        {
            Assert.Contains(mention, result.Error);
        }
    }

    [Fact]
    public async Task A_host_that_does_not_resolve_is_named()
    {
        var result = await JobsTool.RunAsync(null, "status", "--connection", "Host=nosuchhost.invalid;Username=postgres;Timeout=5", "--schema", _db.Name, "--json");

        AssertOneErrorLine(result, 69, "nosuchhost.invalid", "--connection");
    }

    [Fact]
    public async Task A_statement_that_outlasts_the_command_timeout_says_so_and_how_to_raise_it()
    {
        // The jobs table is locked until the tool exited: its listing waits, and its own 1 s command timeout ends it.
        await using var holder = await _db.DataSource.OpenConnectionAsync();
        await using var holding = await holder.BeginTransactionAsync();
        await using (var lockTable = new NpgsqlCommand($"""LOCK TABLE "{_db.Name}".jobs IN ACCESS EXCLUSIVE MODE""", holder))
        {
            await lockTable.ExecuteNonQueryAsync();
        }

        var result = await JobsTool.RunAsync(fixture.ConnectionString + ";Command Timeout=1", "list", "--schema", _db.Name, "--json");
        await holding.RollbackAsync();

        AssertOneErrorLine(result, 75, "Command Timeout");
    }

    [Fact]
    public async Task A_role_without_rights_on_the_schema_gets_one_line()
    {
        var role = "cli_norights_" + Guid.NewGuid().ToString("N")[..8];
        await _db.ExecuteAsync($"CREATE ROLE {role} LOGIN");
        try
        {
            var connection = new NpgsqlConnectionStringBuilder(fixture.ConnectionString) { Username = role, Pooling = false }.ConnectionString;
            var result = await JobsTool.RunAsync(connection, "status", "--schema", _db.Name);

            AssertOneErrorLine(result, 77, "42501", "permission denied", role);
        }
        finally
        {
            await _db.ExecuteAsync($"DROP ROLE {role}");
        }
    }
}
