using Jobs.Sdk.Postgres.Tests;

namespace Jobs.Sdk.Cli.Tests;

/// <summary>
/// A command given an empty (or blank) queue name or entry key: a script's quoted variable that expanded to nothing
/// (<c>jobs queue pause "$QUEUE"</c>). The tool answered "The value cannot be an empty string. (Parameter 'queue')", a .NET
/// argument check naming a parameter of the tool's code; it must say what the command expected and how to give it, exit
/// 64, and change nothing.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class EmptyArgumentTests(PostgresFixture fixture) : IAsyncLifetime
{
    private readonly CliSchema _db = new(fixture);

    public async Task InitializeAsync() => await _db.MigrateAsync();

    public Task DisposeAsync() => _db.DisposeAsync().AsTask();

    [Theory]
    [InlineData("", "give the queue's name", "queue", "pause")]
    [InlineData("  ", "give the queue's name", "queue", "pause")]
    [InlineData("", "give the queue's name", "queue", "resume")]
    [InlineData("", "give the entry's key", "schedules", "pause")]
    [InlineData("", "give the entry's key", "schedules", "resume")]
    [InlineData("", "give the entry's key", "trigger")]
    public async Task An_empty_name_or_key_exits_64_saying_what_the_command_expected(string value, string give, params string[] command)
    {
        var result = await _db.RunAsync(command.Length, [.. command, value]);

        var named = "jobs " + string.Join(' ', command);
        Assert.True(result.ExitCode == 64, $"'{named} \"{value}\"' should exit 64 (a command line the tool cannot use), not {result.ExitCode}:\n{result}");
        Assert.True(result.Out.Length == 0, result.ToString());
        Assert.DoesNotContain("(Parameter '", result.Error, StringComparison.Ordinal);
        Assert.Contains($"error: {named}: '{value}' is ", result.Error, StringComparison.Ordinal);
        Assert.Contains(give, result.Error, StringComparison.Ordinal);
        Assert.Equal(0, await _db.ScalarAsync($"""SELECT count(*) FROM "{_db.Name}".queues WHERE paused"""));
    }
}
