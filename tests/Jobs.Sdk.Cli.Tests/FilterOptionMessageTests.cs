using Jobs.Sdk.Postgres.Tests;

namespace Jobs.Sdk.Cli.Tests;

/// <summary>
/// A filter or paging option the tool refuses is named as the operator typed it: the messages came from the library's
/// query check ("JobQuery.Limit must be between 1 and 500. (Parameter 'Limit') Actual value was 0.", "JobQuery.PayloadContains
/// is not valid JSON", "JobQuery.Cursor ... Pass the NextCursor"), naming properties the operator never typed.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class FilterOptionMessageTests(PostgresFixture fixture) : IAsyncLifetime
{
    private readonly CliSchema _db = new(fixture);

    public async Task InitializeAsync() => await _db.MigrateAsync();

    public Task DisposeAsync() => _db.DisposeAsync().AsTask();

    [Theory]
    [InlineData("--limit: 0 is out of range; use 1 to 500", "list", "--limit", "0")]
    [InlineData("--limit: 501 is out of range; use 1 to 500", "list", "--limit", "501")]
    [InlineData("--cursor: 'garbage' is not", "list", "--cursor", "garbage")]
    [InlineData("--payload: '{bad' is not valid JSON", "list", "--payload", "{bad")]
    [InlineData("--payload: '{bad' is not valid JSON", "delete", "--payload", "{bad", "--dry-run")]
    public async Task A_value_the_tool_refuses_is_named_by_its_option(string message, params string[] args)
    {
        var result = await _db.RunAsync(1, [.. args, "--json"]);

        Assert.True(result.ExitCode == 64, result.ToString());
        Assert.True(result.Out.Length == 0, result.ToString());
        Assert.Contains("error: " + message, result.Error);
        Assert.DoesNotContain("JobQuery", result.Error);
        Assert.DoesNotContain("(Parameter '", result.Error);
    }
}
