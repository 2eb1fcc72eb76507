using System.Net;
using System.Net.Sockets;
using Jobs.Sdk.Postgres.Tests;
using Npgsql;

namespace Jobs.Sdk.Cli.Tests;

/// <summary>
/// A script running the tool branches on its exit code: a wrong command line (fix the script), a database it cannot reach
/// or that did not answer in time (try again later), a schema this tool refuses (use the other version), missing rights,
/// and "not everything named was done" each exit with their own code (sysexits.h's where one fits), as README.md lists.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class ExitCodeTests(PostgresFixture fixture) : IAsyncLifetime
{
    private readonly CliSchema _db = new(fixture);

    public Task InitializeAsync() => _db.MigrateWithFailedEmailsAsync();

    public Task DisposeAsync() => _db.DisposeAsync().AsTask();

    private static void AssertExit(int expected, JobsTool.Result result)
    {
        Assert.True(result.ExitCode == expected, $"expected exit {expected}:\n{result}");
        Assert.Contains("error: ", result.Error);
    }

    [Theory]
    [InlineData("list", "--limit", "abc")]           // an option value the parser cannot read
    [InlineData("status", "--bogus")]                // an option the command does not have
    [InlineData("retry", "--state", "broken")]       // a value the tool refuses
    [InlineData("retry")]                            // neither ids nor filters
    [InlineData("show", "not-a-uuid")]
    public async Task A_command_line_the_tool_cannot_use_exits_64(params string[] args)
        => AssertExit(64, await _db.RunAsync(1, args));

    [Fact]
    public async Task A_command_the_tool_does_not_have_exits_64()
        => AssertExit(64, await JobsTool.RunAsync(fixture.ConnectionString, "retyr", "--queue", "emails"));

    [Fact]
    public async Task A_connection_given_after_the_job_ids_is_named_as_misplaced_not_as_missing()
    {
        // `jobs retry ID --connection ...`: the option after the ids is read as one more id; the tool said "No database:
        // pass --connection", which the operator just did.
        var result = await JobsTool.RunAsync(null, "retry", Guid.NewGuid().ToString(), "--connection", fixture.ConnectionString, "--schema", _db.Name);

        AssertExit(64, result);
        Assert.Contains("'--connection' comes after the job ids", result.Error);
    }

    [Fact]
    public async Task No_connection_given_exits_64()
        => AssertExit(64, await JobsTool.RunAsync(null, "status"));

    [Fact]
    public async Task A_server_that_does_not_listen_exits_69()
    {
        // A port nothing listens on: bound for a moment to get a free one, then closed.
        int port;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }

        var connection = new NpgsqlConnectionStringBuilder(fixture.ConnectionString) { Host = "127.0.0.1", Port = port, Timeout = 5 }.ConnectionString;
        var result = await JobsTool.RunAsync(connection, "retry", "--schema", _db.Name, "--queue", "emails", "--state", "failed", "--json");

        AssertExit(69, result);
        Assert.True(result.Out.Length == 0, result.ToString());
    }

    [Fact]
    public async Task A_statement_that_outlasts_the_command_timeout_exits_75()
    {
        await using var holder = await _db.DataSource.OpenConnectionAsync();
        await using var holding = await holder.BeginTransactionAsync();
        await using (var lockTable = new NpgsqlCommand($"""LOCK TABLE "{_db.Name}".jobs IN ACCESS EXCLUSIVE MODE""", holder))
        {
            await lockTable.ExecuteNonQueryAsync();
        }

        var result = await JobsTool.RunAsync(fixture.ConnectionString + ";Command Timeout=1", "list", "--schema", _db.Name);
        await holding.RollbackAsync();

        AssertExit(75, result);
    }

    [Fact]
    public async Task A_schema_a_newer_version_migrated_incompatibly_exits_78_for_a_change()
    {
        await _db.ExecuteAsync($"""
            INSERT INTO "{_db.Name}".schema_migrations (version, name, compatible_from) VALUES (999, '0999_from_the_future', 999)
            """);

        var result = await _db.RunAsync(1, ["retry", "--queue", "emails", "--state", "failed"]);

        AssertExit(78, result);
        Assert.Contains("0999_from_the_future", result.Error);
    }

    [Fact]
    public async Task A_schema_without_the_job_tables_exits_78()
        => AssertExit(78, await JobsTool.RunAsync(fixture.ConnectionString, "status", "--schema", "cli_nothing_" + Guid.NewGuid().ToString("N")[..8]));

    [Fact]
    public async Task A_role_without_rights_on_the_schema_exits_77()
    {
        var role = "cli_exit_norights_" + Guid.NewGuid().ToString("N")[..8];
        await _db.ExecuteAsync($"CREATE ROLE {role} LOGIN");
        try
        {
            var connection = new NpgsqlConnectionStringBuilder(fixture.ConnectionString) { Username = role, Pooling = false }.ConnectionString;
            AssertExit(77, await JobsTool.RunAsync(connection, "status", "--schema", _db.Name));
        }
        finally
        {
            await _db.ExecuteAsync($"DROP ROLE {role}");
        }
    }

    /// <summary>Passes as written (a guard): a job id given that does not change, or a job not stored, stays exit 1.</summary>
    [Fact]
    public async Task Named_jobs_that_were_not_there_exit_1()
    {
        AssertExit(1, await _db.RunAsync(1, ["retry", Guid.NewGuid().ToString()]));
        AssertExit(1, await _db.RunAsync(1, ["show", Guid.NewGuid().ToString()]));
    }
}
