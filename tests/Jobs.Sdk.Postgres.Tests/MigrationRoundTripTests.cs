using Npgsql;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// What a fresh schema costs the first start of a worker, counted through a real server (a protocol-reading proxy in
/// front of it, not timings): the migration's round trips.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class MigrationRoundTripTests(PostgresFixture fixture)
{
    private static string NewSchema() => "mrt_" + Guid.NewGuid().ToString("N")[..10];

    private NpgsqlDataSource ThroughProxy(TcpProxy proxy, string applicationName) => fixture.CreateDataSource(b =>
    {
        b.Host = "127.0.0.1";
        b.Port = proxy.Port;
        b.SslMode = SslMode.Disable;
        b.ApplicationName = applicationName;
    });

    private TcpProxy StartProxy()
    {
        var server = new NpgsqlConnectionStringBuilder(fixture.ConnectionString);
        return TcpProxy.Start(server.Host!, server.Port);
    }

    [Fact]
    public async Task A_fresh_schema_is_installed_in_five_round_trips_and_a_current_one_is_verified_in_one()
    {
        // The read that finds the schema missing; the lock and lock timeout; BEGIN, the migrations table and its read;
        // every migration with its record and COMMIT; reset and unlock. (Before: 7 exchanges, the migrations and their
        // COMMIT apart, and BEGIN a query of its own in front of the table's.)
        await using var proxy = StartProxy();
        await using var dataSource = ThroughProxy(proxy, "mrt_fresh");
        var schema = NewSchema();

        var applied = await PostgresJobMigrations.ApplyAsync(dataSource, schema);

        Assert.Equal(PostgresJobMigrations.GetMigrations(schema).Count, applied.Count);
        Assert.Equal(5, proxy.RoundTrips);
        Assert.Equal(1L, await dataSource.ScalarAsync($"SELECT count(DISTINCT xmin::text) FROM {schema}.schema_migrations"));

        var before = proxy.RoundTrips;
        Assert.Empty(await PostgresJobMigrations.ApplyAsync(dataSource, schema));
        Assert.Equal(1, proxy.RoundTrips - before);
    }

    [Fact]
    public async Task A_migration_that_fails_leaves_nothing_behind_and_releases_the_lock()
    {
        // The first run's migrations and COMMIT go in one command: a failure in it rolls the whole run back (the schema
        // too), releases the session lock, and leaves the pooled connection usable (no transaction left open on it).
        var schema = NewSchema();
        await using var dataSource = fixture.CreateDataSource(b => b.MaxPoolSize = 1);
        var real = PostgresJobMigrations.GetMigrations(schema);
        PostgresMigration[] failing = [real[0], new PostgresMigration(2, "0002_fails", "SELECT 1 / 0;")];

        var error = await Assert.ThrowsAsync<PostgresException>(() =>
            PostgresJobMigrations.ApplyAsync(dataSource, schema, failing, PostgresJobMigrations.DefaultLockTimeout, default));

        Assert.Equal(PostgresErrorCodes.DivisionByZero, error.SqlState);
        Assert.Equal(0L, await dataSource.ScalarAsync($"SELECT count(*) FROM pg_namespace WHERE nspname = '{schema}'"));
        await using (var other = fixture.CreateDataSource())
        {
            Assert.Equal(0L, await other.ScalarAsync(
                $"SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND ((classid::bigint << 32) | objid::bigint) = {PostgresJobMigrations.LockKey(schema)}"));
        }

        Assert.Equal(real.Count, (await PostgresJobMigrations.ApplyAsync(dataSource, schema)).Count);
    }
}
