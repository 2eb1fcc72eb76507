using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// A database (or role) with <c>idle_session_timeout</c> (PostgreSQL 14+) shorter than the listener's 30 s keep-alive:
/// the server ended the LISTEN connection each time it had been idle that long, the listener logged "lost its connection"
/// (event 2011) and reconnected after a backoff, over and over, and pushes made during each gap woke no worker (they
/// waited for the next poll). The listener must keep its connection alive under the timeout.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class ListenerIdleSessionTests(PostgresFixture fixture) : IAsyncLifetime
{
    private ScratchDatabase? _database;

    public async Task InitializeAsync()
    {
        _database = await ScratchDatabase.CreateAsync(fixture, "idlesession");
        await _database.SetAsync("idle_session_timeout = '400ms'");
    }

    public async Task DisposeAsync() => await _database!.DisposeAsync();

    [Fact]
    public async Task The_listen_connection_outlives_a_short_idle_session_timeout()
    {
        var logs = new LevelLog();
        await using var q = await TestQueue.CreateAsync(fixture, b =>
        {
            b.Services.AddLogging(l => l.AddProvider(logs));
            b.AddJob<ValueJob>((_, _, _) => Task.CompletedTask);
        }, dataSource: _database!.CreateDataSource());
        await q.StartAsync();

        // On the database clock: a session of the database that listens has lived for five idle timeouts.
        await TestExtensions.EventuallyAsync(async () => await _database.Admin.ScalarAsync(
            $"SELECT count(*) FROM pg_stat_activity WHERE datname = '{_database.Name}' AND (query LIKE 'LISTEN%' OR query = 'SELECT 1') " +
            "AND now() - backend_start > interval '2 seconds'") > 0,
            30, "the LISTEN connection living past five idle_session_timeouts");

        Assert.DoesNotContain(logs.Warnings, w => w.Entry.Contains("[2011]", StringComparison.Ordinal));
    }
}
