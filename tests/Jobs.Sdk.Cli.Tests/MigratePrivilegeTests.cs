using Jobs.Sdk.Postgres.Tests;
using Npgsql;

namespace Jobs.Sdk.Cli.Tests;

/// <summary>
/// <c>jobs migrate</c> run as a role that may not apply a pending migration (it has USAGE and CREATE on the schema and DML
/// rights; another role owns the tables): the operator is told which role owns them and to migrate as that role, not to
/// "grant" a privilege no GRANT gives.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class MigratePrivilegeTests(PostgresFixture fixture)
{
    [Fact]
    public async Task Jobs_migrate_as_a_role_that_does_not_own_the_tables_names_the_owner()
    {
        await using var db = new CliSchema(fixture);
        await db.MigrateAsync();
        // Back to the level before 0018_operator_cancels (which adds one column to jobs).
        var role = "app_" + Guid.NewGuid().ToString("N")[..8];
        await db.ExecuteAsync($"""
            ALTER TABLE "{db.Name}".jobs DROP COLUMN operator_cancelled_at;
            DELETE FROM "{db.Name}".schema_migrations WHERE name = '0018_operator_cancels';
            CREATE ROLE {role} LOGIN PASSWORD 'app-pass';
            GRANT USAGE, CREATE ON SCHEMA "{db.Name}" TO {role};
            GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "{db.Name}" TO {role};
            """);
        var connection = new NpgsqlConnectionStringBuilder(fixture.ConnectionString) { Username = role, Password = "app-pass" }.ConnectionString;

        var result = await JobsTool.RunAsync(connection, "migrate", "--schema", db.Name);

        var owner = new NpgsqlConnectionStringBuilder(fixture.ConnectionString).Username;
        Assert.True(result.ExitCode == 77
            && result.Error.Contains($"Role '{role}' may not apply job queue migration 0018_operator_cancels", StringComparison.Ordinal)
            && result.Error.Contains($"role '{owner}'", StringComparison.Ordinal),
            $"jobs migrate as '{role}' (the tables' owner: '{owner}'): {result}");
        Assert.Equal(0L, await db.ScalarAsync($"SELECT count(*) FROM \"{db.Name}\".schema_migrations WHERE name = '0018_operator_cancels'"));
    }
}
