using Jobs.Sdk.Postgres.Tests;

namespace Jobs.Sdk.Cli.Tests;

/// <summary>
/// <c>jobs cleanup --queue</c> given a value no queue can have (empty, only whitespace, whitespace at either end: a script's
/// <c>--queue "$QUEUE"</c> whose variable is empty or read with its newline) is refused naming <c>--queue</c>, before
/// anything is deleted. It was refused with the driver's message for a program's options
/// (<c>(Parameter 'PostgresJobDriverOptions.QueueName')</c>), which names nothing the operator typed.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class CleanupQueueOptionTests(PostgresFixture fixture) : IAsyncLifetime
{
    private readonly CliSchema _db = new(fixture);

    public Task InitializeAsync() => _db.MigrateWithFailedEmailsAsync(3);

    public Task DisposeAsync() => _db.DisposeAsync().AsTask();

    [Theory]
    [InlineData("")]
    [InlineData("  ")]
    [InlineData(" emails")]
    [InlineData("emails\n")]
    public async Task Cleanup_refuses_a_queue_name_no_queue_can_have_naming_the_option(string queue)
    {
        var result = await _db.RunAsync(1, ["cleanup", "--failed", "0s", "--queue", queue]);

        Assert.True(result.ExitCode == 64, $"jobs cleanup --queue '{queue}' should exit 64 (a value the tool cannot use): {result}");
        Assert.Contains("error: --queue:", result.Error);
        Assert.DoesNotContain("PostgresJobDriverOptions", result.Error);
        Assert.Equal(3L, await _db.ScalarAsync($"SELECT count(*) FROM \"{_db.Name}\".jobs"));
    }
}
