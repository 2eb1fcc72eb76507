using Npgsql;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>A throwaway job schema, migrated, with its own data source; dropped at the end of the test.</summary>
internal sealed class MigratedSchema(PostgresFixture fixture, string prefix) : IAsyncLifetime
{
    /// <summary>The schema's name.</summary>
    public string Name { get; } = prefix + Guid.NewGuid().ToString("N")[..10];

    /// <summary>The schema's name, quoted for SQL.</summary>
    public string S => "\"" + Name + "\"";

    /// <summary>A data source of the fixture's server.</summary>
    public NpgsqlDataSource DataSource { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        DataSource = fixture.CreateDataSource();
        await PostgresJobMigrations.ApplyAsync(DataSource, Name);
    }

    public async Task DisposeAsync()
    {
        await DataSource.ExecAsync($"DROP SCHEMA IF EXISTS {S} CASCADE");
        await DataSource.DisposeAsync();
    }
}
