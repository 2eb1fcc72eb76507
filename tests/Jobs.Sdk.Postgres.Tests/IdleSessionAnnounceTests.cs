using Npgsql;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// Pushes outside a caller's transaction are announced after they commit, by a NOTIFY on a pooled connection of its own
/// (<see cref="PushAnnouncer"/>). When the server had ended that connection while it idled (<c>idle_session_timeout</c>,
/// 57P05: nothing ran), the announcement was dropped (a debug-level "Could not announce pushed jobs", event 2014) and the
/// workers of other processes slept through the jobs until their next poll: the jobs started up to a poll interval late.
/// The pool here holds a live connection (the push takes it) and, behind it, one the server ended (the announcement takes
/// it): connections that idled for different spells, one of them past the timeout. The worker polls once an hour, so only
/// the announcement can start the jobs within the test's hang guard.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class IdleSessionAnnounceTests(PostgresFixture fixture) : IAsyncLifetime
{
    private ScratchDatabase? _database;

    public async Task InitializeAsync() => _database = await ScratchDatabase.CreateAsync(fixture, "idleannounce");

    public async Task DisposeAsync() => await _database!.DisposeAsync();

    [Fact]
    public async Task Jobs_pushed_when_the_announcements_pooled_connection_was_ended_while_idle_wake_a_worker_that_polls_hourly()
    {
        var runs = new Recorder<int>();
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>((job, _, _) =>
        {
            runs.Add(job.Value);
            return Task.CompletedTask;
        }), driver: o => o.PollInterval = TimeSpan.FromHours(1), dataSource: _database!.CreateDataSource());
        await using var pusher = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>((_, _, _) => Task.CompletedTask), queueName: q.Queue.QueueName,
            driver: o => o.PollInterval = TimeSpan.FromHours(1), dataSource: _database.CreateDataSource());
        await q.StartAsync();
        await q.ListeningAsync();

        for (var round = 1; round <= 3; round++)
        {
            await LiveThenEndedAsync(pusher.DataSource);
            await pusher.Queue.PushManyAsync([new ValueJob(round * 10), new ValueJob(round * 10 + 1)]); // announced after the push
            await runs.WaitForCountAsync(round * 2, 60);
        }

        Assert.Equal([10, 11, 20, 21, 30, 31], runs.Items.Order());
    }

    /// <summary>
    /// Leaves two connections in <paramref name="dataSource"/>'s pool (which hands out the longest idle first): a live one,
    /// then one whose session the server ended for its <c>idle_session_timeout</c>.
    /// </summary>
    private async Task LiveThenEndedAsync(NpgsqlDataSource dataSource)
    {
        dataSource.Clear();
        var live = await dataSource.OpenConnectionAsync();
        var ending = await dataSource.OpenConnectionAsync();
        await using (var command = new NpgsqlCommand("SET idle_session_timeout = '300ms'", ending))
        {
            await command.ExecuteNonQueryAsync();
        }

        var pid = ending.ProcessID;
        await live.DisposeAsync();
        await ending.DisposeAsync();
        await TestExtensions.EventuallyAsync(async () => await _database!.Admin.ScalarAsync($"SELECT count(*) FROM pg_stat_activity WHERE pid = {pid}") == 0,
            30, "the server ending the idle session");
    }
}
