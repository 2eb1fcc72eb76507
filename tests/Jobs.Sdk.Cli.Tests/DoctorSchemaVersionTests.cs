using System.Text.Json;
using Jobs.Sdk.Postgres;
using Jobs.Sdk.Postgres.Tests;

namespace Jobs.Sdk.Cli.Tests;

/// <summary>
/// <c>jobs doctor</c>'s schema check tells the two ways the recorded migrations can disagree with the tool apart, as the
/// driver's start-up does: a newer version migrated the schema (upgrade the tool), or a recorded migration is not the one
/// this version has under that number (edited by hand, or another build's migrations: upgrading would not help).
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class DoctorSchemaVersionTests(PostgresFixture fixture) : IAsyncLifetime
{
    private readonly CliSchema _db = new(fixture);

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _db.DisposeAsync().AsTask();

    [Fact]
    public async Task A_migration_edited_by_hand_is_named_with_the_one_the_tool_expects_not_reported_as_a_newer_version()
    {
        await _db.MigrateAsync();
        await _db.ExecuteAsync($"UPDATE \"{_db.Name}\".schema_migrations SET name = '0005_edited' WHERE version = 5");

        var doctor = await _db.RunAsync(1, ["doctor", "--json"]);

        Assert.True(doctor.ExitCode == 2, doctor.ToString());
        var (detail, advice) = SchemaCheck(doctor.Json);
        Assert.True(detail.Contains("5:0005_edited", StringComparison.Ordinal) && detail.Contains("5:0005_rolling_deploys", StringComparison.Ordinal)
            && !detail.Contains("newer", StringComparison.Ordinal) && !advice.Contains("Upgrade", StringComparison.Ordinal), doctor.ToString());
    }

    [Fact]
    public async Task A_schema_migrated_by_a_newer_version_names_only_the_migrations_the_tool_does_not_know()
    {
        await _db.MigrateAsync();
        await _db.ExecuteAsync($"INSERT INTO \"{_db.Name}\".schema_migrations (version, name, compatible_from) VALUES (999, '0999_from_the_future', 999)");

        var doctor = await _db.RunAsync(1, ["doctor", "--json"]);

        Assert.True(doctor.ExitCode == 2, doctor.ToString());
        var (detail, advice) = SchemaCheck(doctor.Json);
        Assert.True(detail.Contains("0999_from_the_future", StringComparison.Ordinal) && !detail.Contains("0001_create_jobs", StringComparison.Ordinal)
            && advice.Contains("Upgrade", StringComparison.Ordinal), doctor.ToString());
    }

    [Fact]
    public async Task A_newer_schema_that_declares_this_version_compatible_is_a_warning_not_a_problem()
    {
        // A rolling deploy: the newer version added a migration that this version's code (and tool) still runs against.
        var known = PostgresJobMigrations.GetMigrations("jobs").Count;
        await _db.MigrateAsync();
        await _db.ExecuteAsync($"INSERT INTO \"{_db.Name}\".schema_migrations (version, name, compatible_from) VALUES ({known + 1}, 'next_additive_index', {known})");

        var doctor = await _db.RunAsync(1, ["doctor", "--json"]);

        Assert.True(doctor.ExitCode == 0, doctor.ToString());
        var check = doctor.Json.GetProperty("checks").EnumerateArray().First(c => c.GetProperty("check").GetString() == "schema version");
        Assert.True(check.GetProperty("verdict").GetString() == "warning"
            && check.GetProperty("detail").GetString()!.Contains("next_additive_index", StringComparison.Ordinal), doctor.ToString());
    }

    private static (string Detail, string Advice) SchemaCheck(JsonElement doctor)
    {
        var check = doctor.GetProperty("checks").EnumerateArray().First(c => c.GetProperty("check").GetString() == "schema version");
        return (check.GetProperty("detail").GetString() ?? "", check.GetProperty("advice").GetString() ?? "");
    }
}
