using Jobs.Sdk.Postgres;
using Jobs.Sdk.Postgres.Tests;
using Npgsql;

namespace Jobs.Sdk.Admin.Tests;

/// <summary>
/// <see cref="JobAdmin.GetReadOnlyReasonAsync"/> on PostgreSQL: reads answer on a read-only server, so only this tells a
/// process that only reads (a dashboard) that its figures may be stale and its actions would be refused.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresReadOnlyServerTests(PostgresFixture fixture)
{
    [Fact]
    public async Task A_standby_is_reported_as_in_recovery_and_its_primary_as_writable()
    {
        await using var primary = await LocalPostgresCluster.StartAsync();
        await using var standby = await primary.StartStandbyAsync();
        await using var onPrimary = PostgresJobsBuilderExtensions.CreateDataSource(primary.ConnectionString);
        await using var onStandby = PostgresJobsBuilderExtensions.CreateDataSource(standby.ConnectionString);

        Assert.Null(await PostgresJobAdmin.Create(onPrimary).GetReadOnlyReasonAsync());
        Assert.Equal("a standby in recovery", await PostgresJobAdmin.Create(onStandby).GetReadOnlyReasonAsync());
    }

    [Fact]
    public async Task A_role_whose_transactions_default_to_read_only_is_reported_on_its_new_connections()
    {
        var role = "ro_" + Guid.NewGuid().ToString("N")[..8];
        await using var setup = PostgresJobsBuilderExtensions.CreateDataSource(fixture.ConnectionString);
        await ExecuteAsync(setup, $"CREATE ROLE \"{role}\" LOGIN SUPERUSER PASSWORD 'ro-test'");
        try
        {
            var connectionString = new NpgsqlConnectionStringBuilder(fixture.ConnectionString) { Username = role, Password = "ro-test" }.ConnectionString;
            await using var dataSource = PostgresJobsBuilderExtensions.CreateDataSource(connectionString);
            var admin = PostgresJobAdmin.Create(dataSource);
            Assert.Null(await admin.GetReadOnlyReasonAsync());

            await ExecuteAsync(setup, $"ALTER ROLE \"{role}\" SET default_transaction_read_only = on");
            dataSource.Clear(); // the setting applies to new sessions (as after a failover behind one host name)
            Assert.Equal("default_transaction_read_only is on", await admin.GetReadOnlyReasonAsync());

            await ExecuteAsync(setup, $"ALTER ROLE \"{role}\" RESET default_transaction_read_only");
            dataSource.Clear();
            Assert.Null(await admin.GetReadOnlyReasonAsync());
        }
        finally
        {
            await ExecuteAsync(setup, $"DROP ROLE IF EXISTS \"{role}\"");
        }
    }

    private static async Task ExecuteAsync(NpgsqlDataSource dataSource, string sql)
    {
        await using var command = dataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }
}
