using System.Net;
using System.Net.Sockets;
using Jobs.Sdk.Postgres.Tests;
using Npgsql;

namespace Jobs.Sdk.Cli.Tests;

/// <summary>
/// <c>jobs cleanup</c> (and its dry run) and <c>jobs audit prune</c> run their statements through a job driver, whose
/// schema check is a worker's: it retries for as long as the server is out of reach, and it reports a schema it cannot use
/// in the words of the library's options. An operator's command must instead end at once with the exit code of its class
/// and the tool's own advice, as every other command does: 69 for a server that does not listen (not a tool that hangs
/// silently), 78 and `jobs migrate` for a schema without the tables or older than the tool, 78 naming the migration for
/// a schema a newer incompatible version migrated; nothing deleted.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class MaintenanceStoreCheckTests(PostgresFixture fixture) : IAsyncLifetime
{
    private readonly CliSchema _db = new(fixture);

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _db.DisposeAsync().AsTask();

    [Theory]
    [InlineData(2, "audit", "prune")]
    [InlineData(1, "cleanup", "--failed", "7d", "--queue", "emails")]
    [InlineData(1, "cleanup", "--failed", "7d", "--queue", "emails", "--dry-run")]
    public async Task Against_a_server_that_does_not_listen_it_exits_69_instead_of_waiting_for_it(int words, params string[] args)
    {
        // A port nothing listens on: bound for a moment to get a free one, then closed.
        int port;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }

        var connection = new NpgsqlConnectionStringBuilder(fixture.ConnectionString) { Host = "127.0.0.1", Port = port, Timeout = 5 }.ConnectionString;
        var result = await JobsTool.RunAsync(connection, [.. args[..words], "--schema", _db.Name, .. args[words..], "--json"]);

        Assert.True(result.ExitCode == 69, $"jobs {string.Join(' ', args)} against a server that does not listen should exit 69:\n{result}");
        Assert.True(result.Out.Length == 0, result.ToString());
        Assert.Contains($"127.0.0.1:{port}", result.Error);
    }

    [Theory]
    [InlineData(2, "audit", "prune")]
    [InlineData(1, "cleanup", "--failed", "7d", "--queue", "emails")]
    [InlineData(1, "cleanup", "--failed", "7d", "--queue", "emails", "--dry-run")]
    public async Task Against_a_schema_without_the_job_tables_it_exits_78_saying_to_migrate(int words, params string[] args)
    {
        var result = await _db.RunAsync(words, args);

        Assert.True(result.ExitCode == 78, $"jobs {string.Join(' ', args)} against a schema without the job tables should exit 78:\n{result}");
        Assert.Contains("jobs migrate", result.Error);
        Assert.Contains($"'{_db.Name}'", result.Error);
        Assert.DoesNotContain("MigrateOnStartup", result.Error);
    }

    [Theory]
    [InlineData(2, "audit", "prune")]
    [InlineData(1, "cleanup", "--failed", "7d", "--queue", "emails")]
    [InlineData(1, "cleanup", "--failed", "7d")]
    public async Task Against_a_schema_older_than_the_tool_it_exits_78_saying_to_migrate_and_deletes_nothing(int words, params string[] args)
    {
        await _db.MigrateWithFailedEmailsAsync();
        await _db.ExecuteAsync($"""
            DELETE FROM "{_db.Name}".schema_migrations WHERE version = (SELECT max(version) FROM "{_db.Name}".schema_migrations)
            """);
        await OldAuditEntriesAsync();

        var result = await _db.RunAsync(words, args);

        Assert.True(result.ExitCode == 78, $"jobs {string.Join(' ', args)} against a schema older than the tool should exit 78:\n{result}");
        Assert.Contains("older than this jobs tool", result.Error);
        Assert.Contains("jobs migrate", result.Error);
        Assert.DoesNotContain("MigrateOnStartup", result.Error);
        await AssertNothingDeletedAsync(result);
    }

    [Theory]
    [InlineData(2, "audit", "prune")]
    [InlineData(1, "cleanup", "--failed", "7d", "--queue", "emails")]
    [InlineData(1, "cleanup", "--failed", "7d")]
    public async Task Against_a_schema_a_newer_incompatible_version_migrated_it_exits_78_naming_the_migration_and_deletes_nothing(int words, params string[] args)
    {
        await _db.MigrateWithFailedEmailsAsync();
        await _db.ExecuteAsync($"""
            INSERT INTO "{_db.Name}".schema_migrations (version, name, compatible_from) VALUES (999, '0999_from_the_future', 999)
            """);
        await OldAuditEntriesAsync();

        var result = await _db.RunAsync(words, args);

        Assert.True(result.ExitCode == 78, $"jobs {string.Join(' ', args)} against a schema a newer incompatible version migrated should exit 78:\n{result}");
        Assert.Contains("0999_from_the_future", result.Error);
        Assert.Contains("nothing was changed", result.Error);
        await AssertNothingDeletedAsync(result);
    }

    /// <summary>
    /// The server stops answering the schema read of a later queue's driver, after the command's own check passed (the
    /// migrations table locked, as a session holding it would; a server gone away mid-command is the same retry): the
    /// driver's check retried it for good, and the cleanup never ended. It must stop in that queue with the command
    /// timeout's exit code, saying which queues it finished. The test holds a job of queue 'a' locked until the tool waits
    /// for it, then locks the migrations table and lets 'a' go (seen in pg_locks, not timed); <c>--timeout 10</c> only
    /// bounds those steps of the test's, which take milliseconds.
    /// </summary>
    [Fact]
    public async Task A_cleanup_whose_next_queue_cannot_read_the_schema_stops_there_with_exit_75_instead_of_waiting_for_good()
    {
        await _db.MigrateAsync();
        await _db.ExecuteAsync($"""
            INSERT INTO "{_db.Name}".jobs (id, queue_name, name, payload, state, attempts, finished_at, updated_at)
            SELECT gen_random_uuid(), q, 'send-email', jsonb_build_object(), 4, 1, now() - interval '9 days', now() - interval '9 days' FROM unnest(ARRAY['a', 'b']) q, generate_series(1, 3)
            """);
        await using var rowHolder = await _db.DataSource.OpenConnectionAsync();
        await using var rowLock = await rowHolder.BeginTransactionAsync();
        await ExecuteAsync(rowHolder, $"""SELECT id FROM "{_db.Name}".jobs WHERE queue_name = 'a' LIMIT 1 FOR UPDATE""");

        using var tool = _db.Start(1, ["cleanup", "--failed", "7d", "--timeout", "10"]);
        await UntilBlockedByAsync(tool, rowHolder.ProcessID);
        await using var tableHolder = await _db.DataSource.OpenConnectionAsync();
        await using var tableLock = await tableHolder.BeginTransactionAsync();
        await ExecuteAsync(tableHolder, $"""LOCK TABLE "{_db.Name}".schema_migrations IN ACCESS EXCLUSIVE MODE""");
        await rowLock.CommitAsync();
        var result = await tool.ExitAsync();
        await tableLock.RollbackAsync();

        Assert.True(result.ExitCode == 75, $"a cleanup whose next queue's schema read timed out should exit 75:\n{result}");
        Assert.Contains("stopped in queue 'b'", result.Error);
        Assert.Contains("'a' (3 deleted)", result.Error);
        Assert.Equal(3, await _db.ScalarAsync($"""SELECT count(*) FROM "{_db.Name}".jobs WHERE queue_name = 'b'"""));
    }

    /// <summary>Polls the server until a session waits for a lock <paramref name="holder"/> holds (the tool's).</summary>
    private async Task UntilBlockedByAsync(JobsTool.Running tool, int holder)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (await _db.ScalarAsync($"SELECT count(*) FROM pg_stat_activity WHERE {holder} = ANY (pg_blocking_pids(pid))") == 0)
        {
            if (tool.HasExited)
            {
                Assert.Fail("the tool exited before it waited for the locked job:\n" + await tool.ExitAsync());
            }

            Assert.True(DateTime.UtcNow < deadline, "the tool never waited for the locked job");
            await Task.Delay(20);
        }
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>Audit log entries older than the retention's 90 days, which <c>jobs audit prune</c> would delete.</summary>
    private Task OldAuditEntriesAsync() => _db.ExecuteAsync($"""
        INSERT INTO "{_db.Name}".audit_log (at, actor, action, target, rows_changed)
        SELECT now() - interval '200 days', 'old', 'queue.pause', 'emails', 1 FROM generate_series(1, 3)
        """);

    private async Task AssertNothingDeletedAsync(JobsTool.Result result)
    {
        Assert.True(await _db.ScalarAsync($"""SELECT count(*) FROM "{_db.Name}".jobs""") == 3, "jobs were deleted:\n" + result);
        Assert.True(await _db.ScalarAsync($"""SELECT count(*) FROM "{_db.Name}".audit_log WHERE actor = 'old'""") == 3, "audit entries were deleted:\n" + result);
    }
}
