using Npgsql;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// A database of its own on the test server, for settings a team gives its database (<c>ALTER DATABASE … SET …</c>)
/// without touching the other tests' database; dropped (its sessions ended) at dispose.
/// </summary>
public sealed class ScratchDatabase : IAsyncDisposable
{
    private readonly PostgresFixture _fixture;

    private ScratchDatabase(PostgresFixture fixture, string name, NpgsqlDataSource admin)
    {
        _fixture = fixture;
        Name = name;
        Admin = admin;
    }

    public string Name { get; }

    /// <summary>A data source on the server's default database, outside the scratch database's settings.</summary>
    public NpgsqlDataSource Admin { get; }

    /// <summary>The connection string of the scratch database.</summary>
    public string ConnectionString => new NpgsqlConnectionStringBuilder(_fixture.ConnectionString) { Database = Name }.ConnectionString;

    /// <summary>Creates a database named <paramref name="prefix"/> and a random suffix.</summary>
    public static async Task<ScratchDatabase> CreateAsync(PostgresFixture fixture, string prefix)
    {
        var admin = fixture.CreateDataSource();
        var database = new ScratchDatabase(fixture, prefix + "_" + Guid.NewGuid().ToString("N")[..10], admin);
        await admin.ExecAsync($"CREATE DATABASE \"{database.Name}\"");
        return database;
    }

    /// <summary>Sets <paramref name="setting"/> (<c>name = value</c>) for new sessions of the database.</summary>
    public Task SetAsync(string setting) => Admin.ExecAsync($"ALTER DATABASE \"{Name}\" SET {setting}");

    /// <summary>A data source on the scratch database (its settings apply), further configured by <paramref name="configure"/>.</summary>
    public NpgsqlDataSource CreateDataSource(Action<NpgsqlConnectionStringBuilder>? configure = null) => _fixture.CreateDataSource(b =>
    {
        b.Database = Name;
        configure?.Invoke(b);
    });

    /// <summary>
    /// On the database clock: the server ended every session of the database (with an <c>idle_session_timeout</c>, the
    /// sessions idled past it).
    /// </summary>
    public Task IdleSessionsEndedAsync() => TestExtensions.EventuallyAsync(async () => await Admin.ScalarAsync(
        $"SELECT count(*) FROM pg_stat_activity WHERE datname = '{Name}'") == 0, 30, "the server ending the idle sessions");

    public async ValueTask DisposeAsync()
    {
        await Admin.ExecAsync($"DROP DATABASE IF EXISTS \"{Name}\" WITH (FORCE)");
        await Admin.DisposeAsync();
    }
}
