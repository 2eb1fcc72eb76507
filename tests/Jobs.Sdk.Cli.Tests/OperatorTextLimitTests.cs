using Jobs.Sdk.Postgres.Tests;

namespace Jobs.Sdk.Cli.Tests;

/// <summary>
/// An over-long <c>--reason</c> or <c>--actor</c> (stored, then sent back with every listing of the queues and the audit
/// log) is a command line the tool cannot use: exit 64 with JobAdmin's message (the field, its length, the cap), and
/// nothing changed or audited. A real process against a real PostgreSQL.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class OperatorTextLimitTests(PostgresFixture fixture) : IAsyncLifetime
{
    private readonly CliSchema _db = new(fixture);

    public async Task InitializeAsync()
    {
        await _db.MigrateWithFailedEmailsAsync();
        await _db.ExecuteAsync($"""INSERT INTO "{_db.Name}".audit_log (actor, action, target, rows_changed) VALUES ('alice', 'retry', 'query: earlier', 3)""");
    }

    public Task DisposeAsync() => _db.DisposeAsync().AsTask();

    [Fact]
    public async Task An_over_long_reason_or_actor_exits_64_naming_the_field_its_length_and_the_cap_and_changes_nothing()
    {
        var reason = new string('r', 5000);
        var actor = new string('a', 201);
        foreach (var (words, args, field, length, cap) in new (int, string[], string, int, int)[]
        {
            (2, ["queue", "pause", "emails", "--reason", reason, "--json"], "pause reason", 5000, 1000),
            (2, ["queue", "pause", "emails", "--actor", actor], "audit actor", 201, 200),
            (1, ["retry", "--queue", "emails", "--state", "failed", "--reason", reason], "audit reason", 5000, 1000),
            (1, ["cancel", "--queue", "emails", "--actor", actor, "--json"], "audit actor", 201, 200),
            (2, ["schedules", "pause", "nightly", "--reason", reason], "audit reason", 5000, 1000),
            (2, ["audit", "prune", "--older-than", "0s", "--reason", reason], "audit reason", 5000, 1000),
        })
        {
            var result = await _db.RunAsync(words, args);
            Assert.True(result.ExitCode == 64, $"{string.Join(' ', args.Take(words))}: {result}");
            Assert.True(result.Out.Length == 0, result.ToString());
            Assert.Contains($"{field} is {length} characters long", result.Error);
            Assert.Contains($"at most {cap}", result.Error);
        }

        Assert.Equal(0, await _db.ScalarAsync($"""SELECT count(*) FROM "{_db.Name}".queues"""));
        Assert.Equal(0, await _db.ScalarAsync($"""SELECT count(*) FROM "{_db.Name}".jobs WHERE state <> 4"""));
        // The earlier entry is still there (the prune deleted nothing), and no refused command was recorded.
        Assert.Equal(1, await _db.ScalarAsync($"""SELECT count(*) FROM "{_db.Name}".audit_log"""));
    }
}
