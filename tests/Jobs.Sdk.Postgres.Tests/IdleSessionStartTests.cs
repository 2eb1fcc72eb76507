using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// A database with an <c>idle_session_timeout</c> (PostgreSQL 14+, common on managed PostgreSQL) shorter than the spell
/// between the application's first use of its data source and the jobs' start: the pooled connection the start takes was
/// ended by the server while it idled (57P05, nothing ran). The schema gate's pooler probe warned "Cannot check the job
/// queue schema: PostgreSQL is unreachable" (event 2003) and started over after a backoff; the workers' isolation check
/// took the failure for an unreachable database and skipped the check, so a worker started on a database it must refuse.
/// Both run once more on a new connection.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class IdleSessionStartTests(PostgresFixture fixture) : IAsyncLifetime
{
    private ScratchDatabase? _database;

    public async Task InitializeAsync()
    {
        _database = await ScratchDatabase.CreateAsync(fixture, "idlestart");
        await _database.SetAsync("idle_session_timeout = '300ms'");
    }

    public async Task DisposeAsync() => await _database!.DisposeAsync();

    [Fact]
    public async Task The_schema_gate_is_ready_without_a_warning_when_the_applications_pooled_connection_was_ended_while_idle()
    {
        var logs = new LevelLog();
        var dataSource = _database!.CreateDataSource();
        await using (var command = dataSource.CreateCommand("SELECT 1")) // the application's own statement, before the jobs start
        {
            await command.ExecuteScalarAsync();
        }

        await _database.IdleSessionsEndedAsync();
        await using var q = await TestQueue.CreateAsync(fixture, b =>
        {
            b.Services.AddLogging(l => l.AddProvider(logs));
            b.AddJob<ValueJob>((_, _, _) => Task.CompletedTask);
        }, dataSource: dataSource);

        var retried = logs.Warnings.Select(w => w.Entry).Where(e => e.Contains("[2003]", StringComparison.Ordinal)).ToArray();
        Assert.True(retried.Length == 0, "The schema gate warned:\n" + string.Join('\n', retried));
    }

    [Fact]
    public async Task Workers_refuse_a_repeatable_read_database_when_the_pooled_connection_of_their_check_was_ended_while_idle()
    {
        await _database!.SetAsync("default_transaction_isolation = 'repeatable read'");
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>((_, _, _) => Task.CompletedTask),
            dataSource: _database.CreateDataSource()); // the schema gate ran: its connections wait in the pool

        await _database.IdleSessionsEndedAsync();
        var start = await Record.ExceptionAsync(() => q.StartAsync().WaitAsync(TimeSpan.FromSeconds(60)));

        var error = Assert.IsType<InvalidOperationException>(start);
        Assert.Contains("'repeatable read'", error.Message, StringComparison.Ordinal);
    }
}
