using Jobs.Sdk.Drivers;
using Jobs.Sdk.Postgres;
using Jobs.Sdk.Postgres.Tests;

namespace Jobs.Sdk.Cli.Tests;

/// <summary>
/// <c>--dry-run</c> of the bulk commands (retry, cancel, delete, run-now, priority, cleanup): it says how many jobs the
/// command would change, changes nothing (not even a row's updated_at, nor the audit log), and the command run for real
/// with the same options then changes exactly those jobs. A real process against a real PostgreSQL, one schema per test.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class DryRunTests(PostgresFixture fixture) : IAsyncLifetime
{
    private readonly CliSchema _db = new(fixture);
    private JobAdmin _admin = null!;

    public async Task InitializeAsync() => _admin = await _db.MigrateAsync();

    public Task DisposeAsync() => _db.DisposeAsync().AsTask();

    private static JobPushRecord Job(string name, DateTimeOffset? runAt = null)
        => new() { Id = JobId.New(), Name = name, Payload = "{}"u8.ToArray(), RunAt = runAt };

    /// <summary>Pushes <paramref name="count"/> jobs to <paramref name="queue"/> and has a worker fail each for good.</summary>
    private async Task<JobId[]> FailedAsync(string queue, string name, int count)
    {
        await using var driver = _db.Driver(queue);
        var jobs = Enumerable.Range(0, count).Select(_ => Job(name)).ToArray();
        await driver.PushAsync(jobs, null, default);
        var claimed = await driver.ClaimAsync(new JobClaimRequest("w-test", count, TimeSpan.FromMinutes(1)), default);
        Assert.Equal(count, claimed.Count);
        await driver.CompleteAsync("w-test", [.. claimed.Select(c => new JobOutcome(c.Id, JobOutcomeKind.Failed, c.Attempt, Error: "boom", LeaseToken: c.LeaseToken))], default);
        return [.. jobs.Select(j => j.Id)];
    }

    private async Task<JobId[]> DelayedAsync(string queue, string name, int count)
    {
        await using var driver = _db.Driver(queue);
        var jobs = Enumerable.Range(0, count).Select(_ => Job(name, DateTimeOffset.UtcNow.AddDays(1))).ToArray();
        await driver.PushAsync(jobs, null, default);
        return [.. jobs.Select(j => j.Id)];
    }

    /// <summary>Every stored job's row as text (any write, even one that only touches updated_at, shows).</summary>
    private async Task<Dictionary<Guid, string>> RowsAsync()
    {
        var rows = new Dictionary<Guid, string>();
        await using var command = _db.DataSource.CreateCommand(
            $"SELECT id, concat_ws('|', state, attempts, max_attempts, priority, run_at, updated_at, finished_at, cancel_requested, delete_requested) FROM \"{_db.Name}\".jobs");
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            rows.Add(reader.GetGuid(0), reader.GetString(1));
        }

        return rows;
    }

    /// <summary>The jobs whose row changed or went between two <see cref="RowsAsync"/>.</summary>
    private static HashSet<Guid> Changed(Dictionary<Guid, string> before, Dictionary<Guid, string> after)
        => [.. before.Where(b => !after.TryGetValue(b.Key, out var a) || a != b.Value).Select(b => b.Key)];

    [Theory]
    [InlineData("retry", 3)]
    [InlineData("cancel", 3)]
    [InlineData("delete", 6)]
    [InlineData("run-now", 3)]
    [InlineData("priority --to highest", 3)]
    public async Task A_dry_run_counts_what_the_command_would_change_changes_nothing_and_the_command_then_changes_exactly_those(string command, int expected)
    {
        // Queue emails: 3 failed and 3 delayed pending jobs; queue reports: 2 failed and 1 delayed. --queue emails matches 6
        // of the 9, and each command changes those of the 6 it applies to (retry the failed, cancel the waiting, ...).
        await FailedAsync("emails", "send-email", 3);
        await DelayedAsync("emails", "send-email", 2);
        await DelayedAsync("emails", "invoice", 1);
        await FailedAsync("reports", "report", 2);
        await DelayedAsync("reports", "report", 1);
        var words = command.Split(' ');
        var before = await RowsAsync();
        Assert.Equal(9, before.Count);

        var dry = await _db.RunAsync(1, [.. words, "--queue", "emails", "--dry-run", "--json"]);
        Assert.True(dry.ExitCode == 0, dry.ToString());
        Assert.Equal(words[0], dry.Json.GetProperty("action").GetString());
        Assert.True(dry.Json.GetProperty("dryRun").GetBoolean(), dry.ToString());
        Assert.Equal(6, dry.Json.GetProperty("matched").GetInt32());
        Assert.Equal(expected, dry.Json.GetProperty("wouldChange").GetInt32());
        var sample = dry.Json.GetProperty("sample").EnumerateArray().Select(e => Guid.Parse(e.GetString()!)).ToHashSet();
        Assert.False(dry.Json.TryGetProperty("changed", out _), "a dry run must not report jobs as changed: " + dry);

        var text = await _db.RunAsync(1, [.. words, "--queue", "emails", "--dry-run"]);
        Assert.True(text.ExitCode == 0, text.ToString());
        Assert.Contains($"{words[0]} --dry-run: {expected} job(s) would change (of 6 matching); nothing was changed.", text.Out);

        Assert.Equal(before, await RowsAsync());
        Assert.Empty(await _admin.GetAuditLogAsync());

        var real = await _db.RunAsync(1, [.. words, "--queue", "emails", "--json"]);
        Assert.True(real.ExitCode == 0, real.ToString());
        Assert.Equal(expected, real.Json.GetProperty("changed").GetInt32());
        var changed = Changed(before, await RowsAsync());
        Assert.Equal(expected, changed.Count);
        // The dry run named exactly the jobs the command then changed (fewer than its sample size here).
        Assert.Equal(changed, sample);
    }

    [Fact]
    public async Task A_dry_run_with_job_ids_says_which_would_not_change_as_the_command_would()
    {
        var failed = await FailedAsync("emails", "send-email", 1);
        var waiting = await DelayedAsync("emails", "send-email", 1);
        var before = await RowsAsync();

        var dry = await _db.RunAsync(1, ["retry", "--dry-run", "--json", failed[0].ToString(), waiting[0].ToString()]);
        // The command would exit 1 (a named job that does not change is an error): the dry run predicts it.
        Assert.True(dry.ExitCode == 1, dry.ToString());
        Assert.Equal(1, dry.Json.GetProperty("wouldChange").GetInt32());
        Assert.Equal(2, dry.Json.GetProperty("requested").GetInt32());
        Assert.Contains("1 of the 2 job id(s) given would not change", dry.Error);
        Assert.Equal(before, await RowsAsync());

        var ok = await _db.RunAsync(1, ["retry", "--dry-run", failed[0].ToString()]);
        Assert.True(ok.ExitCode == 0, ok.ToString());
        Assert.Contains("retry --dry-run: 1 job(s) would change", ok.Out);
        Assert.Equal(before, await RowsAsync());
        Assert.Empty(await _admin.GetAuditLogAsync());
    }

    [Fact]
    public async Task A_dry_run_keeps_the_all_guard_of_the_command()
    {
        await DelayedAsync("emails", "send-email", 2);
        var refuse = await _db.RunAsync(1, ["delete", "--dry-run"]);
        Assert.True(refuse.ExitCode == 64 && refuse.Error.Contains("--all", StringComparison.Ordinal), refuse.ToString());

        var all = await _db.RunAsync(1, ["delete", "--dry-run", "--all", "--json"]);
        Assert.True(all.ExitCode == 0, all.ToString());
        Assert.Equal(2, all.Json.GetProperty("wouldChange").GetInt32());
        Assert.Equal(2, (await RowsAsync()).Count);
    }

    [Fact]
    public async Task Cleanup_dry_run_counts_the_jobs_it_would_delete_per_queue_and_deletes_none()
    {
        var emails = await FailedAsync("emails", "send-email", 3);
        await FailedAsync("reports", "report", 2);
        await DelayedAsync("emails", "send-email", 1);
        // Two of the failed emails finished long ago; the rest of the failed jobs just now.
        await using (var age = _db.DataSource.CreateCommand(
            $"UPDATE \"{_db.Name}\".jobs SET finished_at = now() - interval '2 days', updated_at = now() - interval '2 days' WHERE id = ANY($1)"))
        {
            age.Parameters.AddWithValue(new[] { emails[0].Value, emails[1].Value });
            Assert.Equal(2, await age.ExecuteNonQueryAsync());
        }

        var before = await RowsAsync();

        var dry = await _db.RunAsync(1, ["cleanup", "--failed", "1d", "--dry-run", "--json"]);
        Assert.True(dry.ExitCode == 0, dry.ToString());
        Assert.True(dry.Json.GetProperty("dryRun").GetBoolean(), dry.ToString());
        Assert.Equal(2, dry.Json.GetProperty("wouldDelete").GetInt64());
        Assert.Equal(2, dry.Json.GetProperty("queues").GetProperty("emails").GetInt64());
        Assert.Equal(0, dry.Json.GetProperty("queues").GetProperty("reports").GetInt64());
        Assert.False(dry.Json.TryGetProperty("deleted", out _), "a dry run must not report jobs as deleted: " + dry);

        var text = await _db.RunAsync(1, ["cleanup", "--failed", "1d", "--queue", "emails", "--dry-run"]);
        Assert.True(text.ExitCode == 0, text.ToString());
        Assert.Contains("WOULD DELETE", text.Out);
        Assert.Contains("cleanup --dry-run: 2 job(s) would be deleted; nothing was changed.", text.Out);
        Assert.Equal(before, await RowsAsync());

        var real = await _db.RunAsync(1, ["cleanup", "--failed", "1d", "--json"]);
        Assert.True(real.ExitCode == 0, real.ToString());
        Assert.Equal(2, real.Json.GetProperty("deleted").GetInt64());
        Assert.Equal(new HashSet<Guid> { emails[0].Value, emails[1].Value }, Changed(before, await RowsAsync()));
    }
}
