using Jobs.Sdk.Postgres;
using Jobs.Sdk.Postgres.Tests;
using Npgsql;

namespace Jobs.Sdk.Admin.Tests;

[Collection(PostgresCollection.Name)]
public sealed class PostgresAdminTests(PostgresFixture fixture) : AdminConformanceTests, IAsyncLifetime
{
    private readonly NpgsqlDataSource _dataSource = PostgresJobsBuilderExtensions.CreateDataSource(fixture.ConnectionString);
    private readonly List<string> _schemas = [];

    protected override void UseDriver(JobsBuilder jobs, RetentionPolicy retention)
    {
        var schema = "admin_" + Guid.NewGuid().ToString("N")[..10];
        _schemas.Add(schema);
        jobs.UsePostgres(_dataSource, o =>
        {
            o.Schema = schema;
            o.QueueName = "pg-" + Guid.NewGuid().ToString("N")[..6];
            o.PollInterval = TimeSpan.FromMilliseconds(200);
            o.Retention = retention;
        });
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var schema in _schemas)
        {
            await using var drop = _dataSource.CreateCommand($"DROP SCHEMA IF EXISTS \"{schema}\" CASCADE");
            await drop.ExecuteNonQueryAsync();
        }

        await _dataSource.DisposeAsync();
    }
}
