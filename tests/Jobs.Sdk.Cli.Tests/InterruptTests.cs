using Jobs.Sdk.Postgres.Tests;
using Npgsql;

namespace Jobs.Sdk.Cli.Tests;

/// <summary>
/// Ctrl+C (SIGINT) or a service manager's SIGTERM while a long command runs: the tool stops its statement on the server at
/// once, says how far it got, records what it changed in the audit log, exits 130, and leaves no statement of its own
/// waiting on the server. The tool is held on a row or table lock the test owns, and signalled while its backend waits for
/// it (seen in <c>pg_locks</c>, not timed); the test keeps the lock until the tool exited, so a statement the tool left
/// behind would still be waiting for it.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class InterruptTests(PostgresFixture fixture) : IAsyncLifetime
{
    private const int Rows = 100_000;
    private readonly CliSchema _db = new(fixture);

    public async Task InitializeAsync() => await _db.MigrateAsync();

    public Task DisposeAsync() => _db.DisposeAsync().AsTask();

    [Theory]
    [InlineData("INT")]
    [InlineData("TERM")]
    public async Task A_signal_during_a_bulk_retry_of_100000_jobs_stops_it_says_how_many_changed_audits_them_and_exits_130(string signal)
    {
        await _db.ExecuteAsync($"""
            INSERT INTO "{_db.Name}".jobs (id, queue_name, name, payload, state, attempts, max_attempts, last_error, finished_at)
            SELECT gen_random_uuid(), 'emails', 'send-email', jsonb_build_object(), 4, 4, 4, 'boom', now() FROM generate_series(1, {Rows})
            """);

        // The first job of the second batch (JobAdmin.BatchSize: 1,000, id ascending) is locked: the first batch commits,
        // the second waits.
        await using var holder = await _db.DataSource.OpenConnectionAsync();
        await using var holding = await holder.BeginTransactionAsync();
        // (FOR UPDATE in the subquery's outer query: with OFFSET in the same query level, it would lock the rows skipped too.)
        await ExecuteAsync(holder, $"""
            SELECT id FROM "{_db.Name}".jobs WHERE id = (SELECT id FROM "{_db.Name}".jobs ORDER BY id OFFSET 1000 LIMIT 1) FOR UPDATE
            """);

        var result = await InterruptWhileWaitingAsync(holder.ProcessID, signal, ["retry", "--queue", "emails", "--state", "failed", "--reason", "incident 42"]);
        Assert.Contains("1000 job(s)", result.Error);
        await holding.CommitAsync();

        Assert.Equal(1000, await _db.ScalarAsync($"""SELECT count(*) FROM "{_db.Name}".jobs WHERE state = 0"""));
        var audited = await _db.ScalarAsync($"""
            SELECT coalesce(sum(rows_changed), -1) FROM "{_db.Name}".audit_log WHERE action LIKE 'retry%' AND reason = 'incident 42'
            """);
        Assert.True(audited == 1000, $"the audit log records {audited} retried job(s) of the 1000 the interrupted retry changed\n{result}");
    }

    [Fact]
    public async Task A_signal_during_cleanup_stops_it_says_so_and_exits_130()
    {
        await _db.ExecuteAsync($"""
            INSERT INTO "{_db.Name}".jobs (id, queue_name, name, payload, state, attempts, finished_at, updated_at)
            SELECT gen_random_uuid(), 'emails', 'send-email', jsonb_build_object(), 3, 1, now() - interval '9 days', now() - interval '9 days'
            FROM generate_series(1, 10000)
            """);

        // Every statement on the jobs table waits for this lock: the cleanup's first delete waits.
        await using var holder = await _db.DataSource.OpenConnectionAsync();
        await using var holding = await holder.BeginTransactionAsync();
        await ExecuteAsync(holder, $"""LOCK TABLE "{_db.Name}".jobs IN ACCESS EXCLUSIVE MODE""");

        var result = await InterruptWhileWaitingAsync(holder.ProcessID, "TERM", ["cleanup", "--completed", "7d", "--queue", "emails"]);
        Assert.Contains("'emails'", result.Error);
        await holding.CommitAsync();
        Assert.Equal(10000, await _db.ScalarAsync($"""SELECT count(*) FROM "{_db.Name}".jobs"""));
    }

    /// <summary>
    /// <c>jobs audit prune</c> deletes in batches of 1,000 entries, each its own transaction: the batches that committed
    /// before the signal stay deleted, so the audit log must record them (as a bulk action's "failed part-way"), and stderr
    /// must say how many.
    /// </summary>
    [Fact]
    public async Task A_signal_during_an_audit_prune_records_the_entries_its_committed_batches_deleted_and_exits_130()
    {
        await _db.ExecuteAsync($"""
            INSERT INTO "{_db.Name}".audit_log (at, actor, action, target, rows_changed)
            SELECT now() - interval '200 days' + i * interval '1 second', 'old', 'queue.pause', 'emails', 1 FROM generate_series(1, 2500) i
            """);

        // The 1,001st oldest entry is locked: the prune's first batch (the 1,000 oldest) commits, its second waits.
        await using var holder = await _db.DataSource.OpenConnectionAsync();
        await using var holding = await holder.BeginTransactionAsync();
        await ExecuteAsync(holder, $"""
            SELECT id FROM "{_db.Name}".audit_log WHERE id = (SELECT id FROM "{_db.Name}".audit_log ORDER BY at OFFSET 1000 LIMIT 1) FOR UPDATE
            """);

        var result = await InterruptWhileWaitingAsync(holder.ProcessID, "INT", ["audit", "prune", "--older-than", "90d", "--reason", "incident 7"], words: 2);
        Assert.Contains("1000", result.Error);
        await holding.CommitAsync();

        Assert.Equal(1500, await _db.ScalarAsync($"""SELECT count(*) FROM "{_db.Name}".audit_log WHERE actor = 'old'"""));
        var audited = await _db.ScalarAsync($"""
            SELECT coalesce(sum(rows_changed), -1) FROM "{_db.Name}".audit_log WHERE action LIKE 'audit.prune%' AND reason = 'incident 7'
            """);
        Assert.True(audited == 1000, $"the audit log records {audited} pruned entries of the 1000 the interrupted prune deleted\n{result}");
    }

    /// <summary>
    /// Runs <c>jobs {args}</c>, signals it once its statement waits for <paramref name="holder"/>'s lock, and checks what every
    /// interrupted command does: exit 130, "interrupted" on stderr without a stack trace, and nothing of the tool still
    /// waiting on the server (its statement cancelled, not left to run when the lock goes).
    /// </summary>
    private async Task<JobsTool.Result> InterruptWhileWaitingAsync(int holder, string signal, string[] args, int words = 1)
    {
        using var tool = _db.Start(words, args);
        await UntilWaitingAsync(tool, holder);
        await tool.SignalAsync(signal);
        var result = await tool.ExitAsync();

        Assert.True(result.ExitCode == 130, result.ToString());
        Assert.Contains("interrupted", result.Error);
        Assert.DoesNotContain("   at ", result.Error);
        Assert.Equal(0, await WaitingForLockAsync(holder));
        return result;
    }

    /// <summary>Polls the server until a session waits for a lock <paramref name="holder"/> holds (the tool's).</summary>
    private async Task UntilWaitingAsync(JobsTool.Running tool, int holder)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (await WaitingForLockAsync(holder) == 0)
        {
            if (tool.HasExited)
            {
                Assert.Fail("the tool exited before it waited for the locked jobs:\n" + await tool.ExitAsync());
            }

            Assert.True(DateTime.UtcNow < deadline, "the tool never waited for the locked jobs");
            await Task.Delay(20);
        }
    }

    /// <summary>
    /// Sessions blocked by <paramref name="holder"/> (the tool's): only those, since tests of other projects run in parallel
    /// on the same server and their sessions wait for locks too (counting any waiting session signalled the tool early).
    /// </summary>
    private Task<long> WaitingForLockAsync(int holder) => _db.ScalarAsync(
        $"SELECT count(*) FROM pg_stat_activity WHERE {holder} = ANY (pg_blocking_pids(pid))");

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
