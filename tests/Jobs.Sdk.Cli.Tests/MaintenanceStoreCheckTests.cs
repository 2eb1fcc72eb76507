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
