using System.Text.Json;
using Jobs.Sdk.Drivers;
using Jobs.Sdk.Postgres.Tests;

namespace Jobs.Sdk.Cli.Tests;

/// <summary>
/// What a script piping <c>jobs ... --json</c> into a JSON reader relies on: stdout holds the JSON document or nothing,
/// every message (errors included) goes to stderr, and text others control (job names, errors) comes out as valid JSON.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class OutputStreamTests(PostgresFixture fixture) : IAsyncLifetime
{
    private readonly CliSchema _db = new(fixture);

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _db.DisposeAsync().AsTask();

    [Theory]
    [InlineData("list", "--limit", "abc", "--json")]
    [InlineData("status", "--bogus", "--json")]
    [InlineData("retry", "--json", "--dry-run", "--reason")]
    [InlineData("retyr", "--json")]                    // `jobs lsit --json | jq`: the command list goes with the error, to stderr
    [InlineData("queue", "pasue", "emails", "--json")]
    public async Task An_option_or_command_the_tool_cannot_read_is_an_error_on_stderr_with_nothing_on_stdout(params string[] args)
    {
        var result = await JobsTool.RunAsync(fixture.ConnectionString, args);

        Assert.True(result.ExitCode == 64, result.ToString());
        Assert.True(result.Out.Length == 0, "stdout of a failed --json command must stay empty (a JSON reader chokes on text):\n" + result);
        Assert.Contains("error: ", result.Error);
    }

    /// <summary>Passes as written (a guard): hostile names and errors come out as valid JSON, equal to what was stored.</summary>
    [Fact]
    public async Task Hostile_names_and_errors_come_out_of_list_and_show_as_valid_json_equal_to_what_was_stored()
    {
        await _db.MigrateAsync();
        const string name = "send\n\"mail\"\\ \u001b[2J \u2028 😀";
        const string error = "boom: \"quoted\"\r\nline two \t \u202e reversed 😀 \u0007 nul:\0:end"; // the driver replaces the NUL (PostgreSQL text cannot hold it)
        await using var driver = _db.Driver("emails");
        var id = JobId.New();
        await driver.PushAsync([new JobPushRecord { Id = id, Name = name, Payload = """{"to":"x\"\n😀"}"""u8.ToArray() }], null, default);
        var claimed = Assert.Single(await driver.ClaimAsync(new JobClaimRequest("w", 1, TimeSpan.FromMinutes(1)), default));
        await driver.CompleteAsync("w", [new JobOutcome(id, JobOutcomeKind.Failed, claimed.Attempt, Error: error, LeaseToken: claimed.LeaseToken)], default);

        var list = await _db.RunAsync(1, ["list", "--json"]);
        Assert.True(list.ExitCode == 0, list.ToString());
        var item = Assert.Single(list.Json.GetProperty("items").EnumerateArray());
        Assert.Equal(name, item.GetProperty("name").GetString());
        AssertStored(item.GetProperty("lastError").GetString());

        var show = await _db.RunAsync(1, ["show", "--json", id.ToString()]);
        Assert.True(show.ExitCode == 0, show.ToString());
        Assert.Equal(name, show.Json.GetProperty("name").GetString());
        Assert.Equal(JsonValueKind.Object, show.Json.GetProperty("payload").ValueKind);
        AssertStored(Assert.Single(show.Json.GetProperty("errors").EnumerateArray()).GetProperty("error").GetString());

        static void AssertStored(string? text)
        {
            Assert.NotNull(text);
            Assert.StartsWith(error[..error.IndexOf('\0')], text);
            Assert.EndsWith(":end", text);
            Assert.DoesNotContain('\0', text);
        }
    }
}
