using Npgsql;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// A scratch database whose sessions get a short <c>statement_timeout</c> (<c>ALTER DATABASE … SET</c>, as a role's
/// setting on managed PostgreSQL gives them), and a data source without it for a test's own seeding and reads.
/// </summary>
public sealed class StatementTimeoutDatabase : IAsyncDisposable
{
    private readonly ScratchDatabase _database;

    private StatementTimeoutDatabase(ScratchDatabase database)
    {
        _database = database;
        Untimed = database.CreateDataSource(b => b.Options = "-c statement_timeout=0");
    }

    /// <summary>A data source on the database without the timeout.</summary>
    public NpgsqlDataSource Untimed { get; }

    /// <summary>Creates a database named <paramref name="prefix"/> and a random suffix, with <paramref name="timeout"/> (e.g. <c>'50ms'</c>).</summary>
    public static async Task<StatementTimeoutDatabase> CreateAsync(PostgresFixture fixture, string prefix, string timeout)
    {
        var database = await ScratchDatabase.CreateAsync(fixture, prefix);
        await database.SetAsync($"statement_timeout = '{timeout}'");
        return new StatementTimeoutDatabase(database);
    }

    /// <summary>A data source on the database (its timeout applies), further configured by <paramref name="configure"/>.</summary>
    public NpgsqlDataSource CreateDataSource(Action<NpgsqlConnectionStringBuilder>? configure = null) => _database.CreateDataSource(configure);

    public async ValueTask DisposeAsync()
    {
        await Untimed.DisposeAsync();
        await _database.DisposeAsync();
    }
}
