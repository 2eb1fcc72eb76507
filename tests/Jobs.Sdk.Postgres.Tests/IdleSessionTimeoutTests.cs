using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// A database (or role) with an <c>idle_session_timeout</c> (PostgreSQL 14+, common on managed PostgreSQL) shorter than
/// the quiet spells between a process's statements: the server ends the pooled connections (and a worker's held claim
/// connection) while they wait in the pool. The next statement on such a connection failed with
/// <c>57P05: terminating connection due to idle-session timeout</c>: a push threw it at its caller, a claim logged
/// "Claiming jobs failed" (event 1003) and backed off at every quiet spell. The server sends 57P05 only from the wait for a
/// command outside a transaction, so nothing of the statement ran: it runs once more on a new connection.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class IdleSessionTimeoutTests(PostgresFixture fixture) : IAsyncLifetime
{
    private ScratchDatabase? _database;

    public async Task InitializeAsync()
    {
        _database = await ScratchDatabase.CreateAsync(fixture, "idlekill");
        await _database.SetAsync("idle_session_timeout = '300ms'");
    }

    public async Task DisposeAsync() => await _database!.DisposeAsync();

    [Fact]
    public async Task Pushes_and_counts_on_pooled_connections_the_server_ended_while_idle_succeed()
    {
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>((_, _, _) => Task.CompletedTask),
            dataSource: _database!.CreateDataSource());

        await q.Queue.PushAsync(new ValueJob(1));
        await _database!.IdleSessionsEndedAsync();
        await q.Queue.PushAsync(new ValueJob(2)); // one job: the bare insert, its NOTIFY riding in the same round trip
        await _database!.IdleSessionsEndedAsync();
        await q.Queue.PushManyAsync([new ValueJob(3), new ValueJob(4)]);
        await _database!.IdleSessionsEndedAsync();
        var counts = await q.Queue.GetCountsAsync();

        Assert.Equal(4, counts.Pending);
    }

    [Fact]
    public async Task A_claim_after_the_server_ended_the_idle_held_connection_runs_without_a_failure()
    {
        var logs = new LevelLog();
        var runs = new Recorder<int>();
        await using var q = await TestQueue.CreateAsync(fixture, b =>
        {
            b.Services.AddLogging(l => l.AddProvider(logs));
            b.AddJob<ValueJob>((job, _, _) =>
            {
                runs.Add(job.Value);
                return Task.CompletedTask;
            });
        }, driver: o => o.PollInterval = TimeSpan.FromSeconds(30), dataSource: _database!.CreateDataSource());
        await q.StartAsync();
        // Pushes from another process whose sessions have no idle timeout: the pushes' own connections are not what is tested here.
        await using var pusher = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>((_, _, _) => Task.CompletedTask), queueName: q.Driver.QueueName,
            dataSource: _database.CreateDataSource(b => b.Options = "-c idle_session_timeout=0"));

        for (var i = 1; i <= 3; i++)
        {
            await pusher.Queue.PushAsync(new ValueJob(i));
            await runs.WaitForCountAsync(i, 60);
            // On the database clock: no session of the database is left that last ran a claim (the server ended the held one).
            await TestExtensions.EventuallyAsync(async () => await _database.Admin.ScalarAsync(
                $"SELECT count(*) FROM pg_stat_activity WHERE datname = '{_database.Name}' AND query LIKE '%SKIP LOCKED%'") == 0,
                30, "the server ending the idle held claim connection");
        }

        var failures = logs.Warnings.Select(w => w.Entry).Where(e => e.Contains("[1003]", StringComparison.Ordinal)).ToArray();
        Assert.True(failures.Length == 0, "Claims failed:\n" + string.Join('\n', failures));
    }

    [Fact]
    public async Task Admin_reads_and_actions_on_pooled_connections_the_server_ended_while_idle_succeed()
    {
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<ValueJob>((_, _, _) => Task.CompletedTask),
            dataSource: _database!.CreateDataSource());
        var admin = q.Services.GetRequiredService<JobAdmin>(); // the dashboard's
        var id = await q.Queue.PushAsync(new ValueJob(1));

        await _database!.IdleSessionsEndedAsync();
        var job = await admin.GetJobAsync(id);
        await _database!.IdleSessionsEndedAsync();
        var page = await admin.ListJobsAsync(new JobQuery { Queue = q.Driver.QueueName });
        await _database!.IdleSessionsEndedAsync();
        var cancelled = await admin.CancelAsync(JobSelection.Ids(id));
        await _database!.IdleSessionsEndedAsync();
        var audit = await admin.GetAuditLogAsync(10); // a read with parameters of the caller's

        Assert.Equal(id, job?.Id);
        Assert.Equal([id], page.Items.Select(j => j.Id));
        Assert.Equal(1, cancelled);
        Assert.NotEmpty(audit);
    }
}
