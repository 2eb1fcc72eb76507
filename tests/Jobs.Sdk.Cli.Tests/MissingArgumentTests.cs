using Jobs.Sdk.Postgres.Tests;

namespace Jobs.Sdk.Cli.Tests;

/// <summary>
/// A command that needs an argument, given nothing after its name: a script's variable that expanded to nothing
/// (<c>jobs queue pause $QUEUE</c>, <c>jobs show $ID</c>). The tool printed the command's usage and exited 0, so the script
/// went on as if the queue were paused; it must exit 64 (a command line it cannot use), saying what is missing.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class MissingArgumentTests(PostgresFixture fixture) : IAsyncLifetime
{
    private readonly CliSchema _db = new(fixture);

    public async Task InitializeAsync() => await _db.MigrateAsync();

    public Task DisposeAsync() => _db.DisposeAsync().AsTask();

    [Theory]
    [InlineData("the queue", "queue", "pause")]
    [InlineData("the queue", "queue", "resume")]
    [InlineData("the job id", "show")]
    [InlineData("the entry key", "trigger")]
    [InlineData("the entry key", "schedules", "pause")]
    [InlineData("the entry key", "schedules", "resume")]
    [InlineData("--to", "priority")]
    public async Task A_command_given_none_of_the_arguments_it_needs_exits_64_naming_them(string missing, params string[] command)
    {
        var result = await JobsTool.RunAsync(fixture.ConnectionString, command);

        var named = "jobs " + string.Join(' ', command);
        Assert.True(result.ExitCode == 64, $"'{named}' with nothing after it should exit 64 (a command line the tool cannot use), not {result.ExitCode}:\n{result}");
        Assert.True(result.Out.Length == 0, result.ToString());
        Assert.Contains($"error: {named} needs {missing}", result.Error);
    }

    /// <summary>Passes as written (a guard): asking for a command's usage still prints it on stdout and exits 0.</summary>
    [Theory]
    [InlineData("queue", "pause", "--help")]
    [InlineData("show", "-h")]
    public async Task Asking_for_the_usage_of_a_command_that_needs_arguments_still_exits_0(params string[] args)
    {
        var result = await JobsTool.RunAsync(fixture.ConnectionString, args);

        Assert.True(result.ExitCode == 0 && result.Error.Length == 0 && result.Out.StartsWith("Usage: ", StringComparison.Ordinal), result.ToString());
    }

    /// <summary>Passes as written (a guard): the same command given its argument runs.</summary>
    [Fact]
    public async Task A_command_given_its_argument_runs()
    {
        var result = await _db.RunAsync(2, ["queue", "pause", "emails"]);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(1, await _db.ScalarAsync($"""SELECT count(*) FROM "{_db.Name}".queues WHERE paused"""));
    }
}
