using Jobs.Sdk.Drivers;
using Npgsql;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>The <see cref="IJobDriver"/> contract (tests/Shared/Conformance) on the PostgreSQL driver, one queue per test.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresDriverConformanceTests(PostgresFixture fixture) : JobDriverConformanceTests
{
    private const string Schema = "jobs_test";

    protected override DateTimeOffset Now => DateTimeOffset.UtcNow;

    protected override async Task<IJobDriver> CreateDriverAsync(RetentionPolicy retention)
    {
        var driver = new PostgresJobDriver(fixture.CreateDataSource(), new PostgresJobDriverOptions
        {
            Schema = Schema,
            QueueName = "conformance_" + Guid.NewGuid().ToString("N")[..10],
            Retention = retention,
        }, logger: null, timeProvider: null, ownsDataSource: true);
        await driver.WaitUntilReadyAsync(default);
        return driver;
    }

    /// <summary>A store over the tests' schema (every queue in it), on the driver's data source.</summary>
    protected override IJobAdminStore AdminStore(IJobDriver driver) => new PostgresJobAdminStore(((PostgresJobDriver)driver).DataSource, Schema);

    /// <summary>
    /// An hour: leases run on the database's real clock, and a few seconds could pass before a test checks that nothing
    /// is rescued yet on a loaded machine. <see cref="ExpireLeaseAsync"/> ends it whatever its length.
    /// </summary>
    protected override TimeSpan ShortLease => TimeSpan.FromHours(1);

    /// <summary>Sets the lease in the past on the database clock (the clock rescue reads).</summary>
    protected override async Task ExpireLeaseAsync(IJobDriver driver, JobId id)
    {
        var dataSource = ((PostgresJobDriver)driver).DataSource;
        await using var command = dataSource.CreateCommand(
            $"UPDATE {Schema}.jobs SET lease_expires_at = now() - interval '1 second' WHERE id = $1 AND lease_expires_at IS NOT NULL");
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id.Value });
        Assert.Equal(1, await command.ExecuteNonQueryAsync());
    }

    /// <summary>Moves the bucket's last refill back on the database clock (the clock refills read).</summary>
    protected override async Task AgeRateLimitBucketAsync(IJobDriver driver, TimeSpan by)
    {
        var dataSource = ((PostgresJobDriver)driver).DataSource;
        await using var command = dataSource.CreateCommand(
            $"UPDATE {Schema}.queue_rate_limits SET refilled_at = refilled_at - $2 * interval '1 millisecond' WHERE queue_name = $1");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = driver.QueueName });
        command.Parameters.Add(new NpgsqlParameter<double> { TypedValue = by.TotalMilliseconds });
        Assert.Equal(1, await command.ExecuteNonQueryAsync());
    }
}
