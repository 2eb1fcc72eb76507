using System.Text.Json;
using System.Text.RegularExpressions;
using Jobs.Sdk.Postgres.Tests;
using Npgsql;

namespace Jobs.Sdk.Cli.Tests;

/// <summary>
/// An index rebuild that stopped part-way: <c>REINDEX INDEX CONCURRENTLY</c> (what <c>jobs doctor</c> advises for index
/// bloat) cancelled by a statement timeout, Ctrl+C or a lost session leaves its new copy, <c>{index}_ccnew</c>, invalid
/// beside the index it rebuilt. PostgreSQL's advice is to drop that copy; rebuilding it makes a second, valid copy of the
/// index that every push, claim and completion then writes. The doctor's advice, run as printed, leaves the indexes healthy,
/// and a second copy of one of the driver's indexes is not reported as all well.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed partial class DoctorIndexLeftoverTests(PostgresFixture fixture) : IAsyncLifetime
{
    private readonly CliSchema _db = new(fixture);

    public async Task InitializeAsync() => await _db.MigrateAsync();

    public Task DisposeAsync() => _db.DisposeAsync().AsTask();

    [Fact]
    public async Task The_advice_for_an_interrupted_concurrent_rebuild_drops_its_leftover_and_leaves_the_indexes_healthy()
    {
        await LeaveInterruptedRebuildAsync("jobs_runnable_idx");

        var sick = await _db.RunAsync(1, ["doctor", "--json"]);
        Assert.True(sick.ExitCode == 2, sick.ToString());
        var advice = Indexes(sick.Json).Select(f => f.GetProperty("advice").GetString()).OfType<string>().ToArray();
        var statements = advice.SelectMany(a => Statement().Matches(a).Select(m => m.Value)).ToArray();
        Assert.True(statements.Length > 0 && statements.All(s => !s.StartsWith("REINDEX", StringComparison.Ordinal) || !s.Contains("_ccnew", StringComparison.Ordinal)),
            $"`jobs doctor`'s advice for the invalid leftover of an interrupted REINDEX CONCURRENTLY should be statements to run that drop it, not rebuild it (a second copy of the index):\n{string.Join("\n", advice)}");

        foreach (var statement in statements)
        {
            await _db.ExecuteAsync(statement);
        }

        var healthy = await _db.RunAsync(1, ["doctor", "--json"]);
        var after = Indexes(healthy.Json).ToArray();
        Assert.True(after is [var ok] && ok.GetProperty("verdict").GetString() == "ok" && ok.GetProperty("detail").GetString()!.Contains("(6 in total)", StringComparison.Ordinal),
            $"after running the doctor's advice ({string.Join(" ", statements)}) the indexes should be the driver's 6, valid:\n{healthy}");
    }

    [Fact]
    public async Task A_second_valid_copy_of_a_driver_index_is_reported_with_the_statement_that_drops_it()
    {
        // What the advice to rebuild the leftover did: REINDEX of the invalid copy makes it valid, a second jobs_runnable_idx.
        await LeaveInterruptedRebuildAsync("jobs_runnable_idx");
        await _db.ExecuteAsync($"""REINDEX INDEX CONCURRENTLY "{_db.Name}".jobs_runnable_idx_ccnew""");

        var result = await _db.RunAsync(1, ["doctor", "--json"]);

        var findings = Indexes(result.Json).ToArray();
        Assert.True(findings.Any(f => f.GetProperty("verdict").GetString() != "ok"
                && f.GetProperty("detail").GetString()!.Contains("jobs_runnable_idx_ccnew", StringComparison.Ordinal)
                && f.GetProperty("advice").GetString()!.Contains($"DROP INDEX CONCURRENTLY \"{_db.Name}\".\"jobs_runnable_idx_ccnew\";", StringComparison.Ordinal)),
            $"`jobs doctor` should report jobs_runnable_idx_ccnew, a second copy of jobs_runnable_idx that every write maintains, and how to drop it:\n{result}");
    }

    /// <summary>
    /// Starts <c>REINDEX INDEX CONCURRENTLY</c> of <paramref name="index"/> while another session's open transaction holds a
    /// lock on the jobs table that the rebuild waits for, and lets a statement timeout cancel it: its new copy stays, invalid.
    /// </summary>
    private async Task LeaveInterruptedRebuildAsync(string index)
    {
        await using var holder = await _db.DataSource.OpenConnectionAsync();
        await using var holding = await holder.BeginTransactionAsync();
        await using (var lockTable = new NpgsqlCommand($"""LOCK TABLE "{_db.Name}".jobs IN ROW EXCLUSIVE MODE""", holder))
        {
            await lockTable.ExecuteNonQueryAsync();
        }

        await using (var rebuild = _db.DataSource.CreateConnection())
        {
            await rebuild.OpenAsync();
            await using var timeout = new NpgsqlCommand("SET statement_timeout = '1s'", rebuild);
            await timeout.ExecuteNonQueryAsync();
            await using var reindex = new NpgsqlCommand($"""REINDEX INDEX CONCURRENTLY "{_db.Name}".{index}""", rebuild);
            var cancelled = await Assert.ThrowsAsync<PostgresException>(() => reindex.ExecuteNonQueryAsync());
            Assert.Equal(PostgresErrorCodes.QueryCanceled, cancelled.SqlState);
            await using var reset = new NpgsqlCommand("RESET statement_timeout", rebuild);
            await reset.ExecuteNonQueryAsync();
        }

        await holding.RollbackAsync();
        Assert.Equal(1, await _db.ScalarAsync($"""
            SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
            WHERE i.indrelid = '"{_db.Name}".jobs'::regclass AND c.relname = '{index}_ccnew' AND NOT i.indisvalid
            """));
    }

    private static IEnumerable<JsonElement> Indexes(JsonElement doctor)
        => doctor.GetProperty("checks").EnumerateArray().Where(c => c.GetProperty("check").GetString() == "indexes");

    [GeneratedRegex("""(?:DROP|REINDEX) INDEX CONCURRENTLY [^;<>]+;""")]
    private static partial Regex Statement();
}
