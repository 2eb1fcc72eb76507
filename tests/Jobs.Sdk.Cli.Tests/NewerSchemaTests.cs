using Jobs.Sdk.Postgres.Tests;

namespace Jobs.Sdk.Cli.Tests;

/// <summary>
/// After a rolling upgrade a newer version migrated the schema with a migration this tool's version cannot run against
/// (its workers stay stopped): an operator still running the old tool must not change jobs with statements that do not
/// know the new columns. The tool refuses before it changes anything, as the old workers do; reading stays possible.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class NewerSchemaTests(PostgresFixture fixture) : IAsyncLifetime
{
    private readonly CliSchema _db = new(fixture);

    public async Task InitializeAsync()
    {
        await _db.MigrateAsync();
        await _db.ExecuteAsync($"""
            INSERT INTO "{_db.Name}".jobs (id, queue_name, name, payload, state, attempts, finished_at)
            SELECT gen_random_uuid(), 'emails', 'send-email', jsonb_build_object(), 4, 1, now() FROM generate_series(1, 3);
            INSERT INTO "{_db.Name}".schema_migrations (version, name, compatible_from) VALUES (999, '0999_from_the_future', 999);
            """);
    }

    public Task DisposeAsync() => _db.DisposeAsync().AsTask();

    [Theory]
    [InlineData("retry", "--queue", "emails", "--state", "failed")]
    [InlineData("delete", "--queue", "emails")]
    [InlineData("queue", "pause", "emails")]
    public async Task A_command_that_changes_jobs_refuses_a_schema_a_newer_incompatible_version_migrated(params string[] args)
    {
        var result = await _db.RunAsync(args[0] == "queue" ? 2 : 1, args);

        Assert.True(result.ExitCode == 78, result.ToString());
        Assert.Contains("0999_from_the_future", result.Error);
        Assert.Contains("nothing was changed", result.Error);
        Assert.Equal(3, await _db.ScalarAsync($"""SELECT count(*) FROM "{_db.Name}".jobs WHERE state = 4"""));
        Assert.Equal(0, await _db.ScalarAsync($"""SELECT count(*) FROM "{_db.Name}".queues"""));
        Assert.Equal(0, await _db.ScalarAsync($"""SELECT count(*) FROM "{_db.Name}".audit_log"""));
    }

    /// <summary>Passes as written (a guard): reading a newer schema stays possible (the operator's old tool can look).</summary>
    [Fact]
    public async Task Reading_commands_still_work()
    {
        var list = await _db.RunAsync(1, ["list", "--queue", "emails", "--json"]);

        Assert.True(list.ExitCode == 0, list.ToString());
        Assert.Equal(3, list.Json.GetProperty("items").GetArrayLength());
    }
}
