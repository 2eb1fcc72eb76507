using Jobs.Sdk.Postgres.Tests;
using Npgsql;

namespace Jobs.Sdk.Cli.Tests;

/// <summary>
/// <c>jobs doctor</c> run by a role with an <c>idle_session_timeout</c> (PostgreSQL 14+, common on managed PostgreSQL)
/// shorter than one of its checks: it held one connection for all its checks, and the schedule-pause check reads on
/// another, so the held connection idled meanwhile and the server ended it (57P05). The next check failed and the tool
/// exited 1 with "terminating connection due to idle-session timeout" instead of its report. Each check runs once more on
/// a new connection. The schedule read is held up by a lock the test holds until the server ended the idle session: nothing
/// is timed.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class DoctorIdleSessionTests(PostgresFixture fixture) : IAsyncLifetime
{
    private readonly CliSchema _db = new(fixture);
    private readonly string _role = "doctor_idle_" + Guid.NewGuid().ToString("N")[..8];

    public async Task InitializeAsync()
    {
        await _db.MigrateAsync();
        await _db.ExecuteAsync($"CREATE ROLE {_role} LOGIN SUPERUSER; ALTER ROLE {_role} SET idle_session_timeout = '2s'");
    }

    public async Task DisposeAsync()
    {
        await _db.ExecuteAsync($"DROP ROLE IF EXISTS {_role}");
        await _db.DisposeAsync();
    }

    [Fact]
    public async Task Doctor_reports_when_the_server_ended_its_idle_connection_during_a_check()
    {
        var connection = new NpgsqlConnectionStringBuilder(fixture.ConnectionString) { Username = _role }.ConnectionString;
        await using var holder = await _db.DataSource.OpenConnectionAsync();
        var lockTx = await holder.BeginTransactionAsync();
        await using (var lockSchedules = new NpgsqlCommand($"LOCK TABLE \"{_db.Name}\".schedules IN ACCESS EXCLUSIVE MODE", holder))
        {
            await lockSchedules.ExecuteNonQueryAsync();
        }

        using var doctor = JobsTool.Start(connection, "doctor", "--schema", _db.Name);
        // The schedule-pause check waits for the lock; the tool's other sessions idle, and the server ends them.
        await UntilAsync($"""
            SELECT EXISTS (SELECT 1 FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                           WHERE a.usename = '{_role}' AND l.relation = '"{_db.Name}".schedules'::regclass AND NOT l.granted)
            AND (SELECT count(*) FROM pg_stat_activity WHERE usename = '{_role}') = 1
            """, doctor, "the tool's schedule read waiting for the lock, its other sessions ended by the server");
        await lockTx.CommitAsync();
        var result = await doctor.ExitAsync();

        Assert.True(result.ExitCode == 0 && result.Error.Length == 0, result.ToString());
        Assert.Contains("doctor: healthy", result.Out, StringComparison.Ordinal);
    }

    /// <summary>Polls <paramref name="condition"/> on the database (sessions and locks are visible only there) while the tool runs.</summary>
    private async Task UntilAsync(string condition, JobsTool.Running tool, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            await using var command = _db.DataSource.CreateCommand(condition);
            if ((bool)(await command.ExecuteScalarAsync())!)
            {
                return;
            }

            if (tool.HasExited)
            {
                Assert.Fail($"the tool exited before {what}:\n{await tool.ExitAsync()}");
            }

            Assert.True(DateTime.UtcNow < deadline, "not within 60 s: " + what);
            await Task.Delay(20);
        }
    }
}
