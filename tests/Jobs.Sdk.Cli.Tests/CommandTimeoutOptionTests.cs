using Jobs.Sdk.Postgres.Tests;

namespace Jobs.Sdk.Cli.Tests;

/// <summary>
/// <c>--timeout SECONDS</c> (every command) sets the command timeout of the tool's statements, over the connection
/// string's <c>Command Timeout</c>; a timeout's message names it. A value that is not a whole number of seconds (0: none)
/// is a command line the tool cannot use. A real process against a real PostgreSQL; the test holds a row lock (no sleeps).
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class CommandTimeoutOptionTests(PostgresFixture fixture) : IAsyncLifetime
{
    private const int Rows = 1_500; // more than one batch (JobAdmin.BatchSize = 1000)
    private readonly CliSchema _db = new(fixture);

    public Task InitializeAsync() => _db.MigrateWithFailedEmailsAsync(Rows);

    public Task DisposeAsync() => _db.DisposeAsync().AsTask();

    [Fact]
    public async Task A_bulk_retry_blocked_past_timeout_1_exits_75_naming_the_timeout_option()
    {
        // The last job (id order: the walk's) is in the second batch: held locked until the tool exited.
        await using var connection = await _db.DataSource.OpenConnectionAsync();
        await using var holding = await connection.BeginTransactionAsync();
        await using (var hold = new Npgsql.NpgsqlCommand($"""SELECT id FROM "{_db.Name}".jobs ORDER BY id DESC LIMIT 1 FOR UPDATE""", connection, holding))
        {
            await hold.ExecuteScalarAsync();
        }

        // The connection string's 300 s would outlast the test's 60 s wait for the tool: --timeout 1 is what ends it.
        using var running = JobsTool.Start(fixture.ConnectionString + ";Command Timeout=300",
            "retry", "--schema", _db.Name, "--queue", "emails", "--state", "failed", "--json", "--timeout", "1");
        var result = await running.ExitAsync();
        await holding.RollbackAsync();

        Assert.True(result.ExitCode == 75, result.ToString());
        Assert.True(result.Out.Length == 0, result.ToString());
        Assert.Contains("1000 job(s)", result.Error);
        Assert.Contains("command timeout (1 s)", result.Error);
        Assert.Contains("--timeout", result.Error);
        Assert.Equal(1000, await _db.ScalarAsync($"""SELECT count(*) FROM "{_db.Name}".jobs WHERE state <> 4"""));
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("-1")]
    [InlineData("1.5")]
    public async Task A_timeout_that_is_not_whole_seconds_exits_64_and_runs_nothing(string value)
    {
        var result = await _db.RunAsync(1, ["retry", "--queue", "emails", "--state", "failed", "--timeout", value, "--json"]);

        Assert.True(result.ExitCode == 64, result.ToString());
        Assert.True(result.Out.Length == 0, result.ToString());
        Assert.Contains($"--timeout: '{value}' is not", result.Error);
        Assert.Equal(0, await _db.ScalarAsync($"""SELECT count(*) FROM "{_db.Name}".jobs WHERE state <> 4"""));
    }

    /// <summary>
    /// A large number to mean "wait as long as it takes" (<c>--timeout 999999999</c>, or the connection string's
    /// <c>Command Timeout</c>): past what the tool can wait (4,294,967 s, 49 days) it failed at its first statement with
    /// .NET's words, "Specified argument was out of the range of valid values. (Parameter 'delay')", naming neither.
    /// </summary>
    [Theory]
    [InlineData("--timeout", "999999999")]
    [InlineData("--timeout", "4294968")]
    [InlineData("Command Timeout=", "999999999")]
    public async Task A_timeout_longer_than_the_tool_can_wait_exits_64_naming_it_its_limit_and_0(string option, string value)
    {
        var result = option == "--timeout"
            ? await _db.RunAsync(1, ["retry", "--queue", "emails", "--state", "failed", "--timeout", value, "--json"])
            : await JobsTool.RunAsync(fixture.ConnectionString + ";Command Timeout=" + value, "retry", "--schema", _db.Name, "--queue", "emails", "--state", "failed", "--json");

        Assert.True(result.ExitCode == 64, result.ToString());
        Assert.True(result.Out.Length == 0, result.ToString());
        Assert.Contains(option == "--timeout" ? $"--timeout: '{value}'" : $"Command Timeout={value}", result.Error);
        Assert.Contains("4294967", result.Error);
        Assert.Contains("0 for no", result.Error);
        Assert.Equal(0, await _db.ScalarAsync($"""SELECT count(*) FROM "{_db.Name}".jobs WHERE state <> 4"""));
    }

    [Fact]
    public async Task Timeout_0_waits_without_limit_and_help_lists_the_option()
    {
        var status = await _db.RunAsync(1, ["status", "--timeout", "0", "--json"]);
        Assert.True(status.ExitCode == 0, status.ToString());

        var help = await JobsTool.RunAsync(null, "--help");
        Assert.True(help.ExitCode == 0, help.ToString());
        Assert.Contains("--timeout", help.Out);
        var retryHelp = await JobsTool.RunAsync(null, "retry", "--help");
        Assert.Contains("--timeout", retryHelp.Out);
    }

    [Fact]
    public async Task A_timeout_before_the_command_name_exits_64_saying_options_come_after_it()
    {
        var result = await JobsTool.RunAsync(fixture.ConnectionString, "--timeout", "5", "status");

        Assert.True(result.ExitCode == 64, result.ToString());
        Assert.True(result.Out.Length == 0, result.ToString());
        Assert.Contains("error: '--timeout' comes before the command name: options come after it (jobs status --timeout 5)", result.Error);
    }
}
