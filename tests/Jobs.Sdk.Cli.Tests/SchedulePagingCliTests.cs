using Jobs.Sdk.Drivers;
using Jobs.Sdk.Postgres;
using Jobs.Sdk.Postgres.Tests;

namespace Jobs.Sdk.Cli.Tests;

/// <summary>
/// A store of thousands of recurring schedule entries: <c>jobs schedules</c> printed every one of them at once. It pages as
/// <c>jobs list</c> does (<c>--limit</c>, default 50; <c>--cursor</c> from the previous page), in the dashboard's order.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class SchedulePagingCliTests(PostgresFixture fixture) : IAsyncLifetime
{
    private const int Entries = 120;
    private readonly CliSchema _db = new(fixture);

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _db.DisposeAsync().AsTask();

    [Fact]
    public async Task Jobs_schedules_prints_a_page_of_50_entries_and_the_cursor_of_the_next_until_every_entry_was_listed_once()
    {
        await _db.MigrateAsync();
        var store = new PostgresJobAdminStore(_db.DataSource, _db.Name);
        await store.PublishSchedulesAsync(Enumerable.Range(0, Entries).Select(i => Entry($"entry-{i:D3}")).ToArray(), default);

        var listed = new List<string>();
        string[] args = ["schedules"];
        for (var page = 0; page < 10; page++)
        {
            var result = await _db.RunAsync(1, args);
            Assert.True(result.ExitCode == 0, result.ToString());
            var rows = result.Out.Split('\n').Where(l => l.StartsWith("entry-", StringComparison.Ordinal)).Select(l => l.Split(' ')[0]).ToArray();
            Assert.Equal(page < 2 ? 50 : 20, rows.Length);
            listed.AddRange(rows);
            var next = result.Out.Split('\n').SingleOrDefault(l => l.Contains("next page: --cursor ", StringComparison.Ordinal));
            if (next is null)
            {
                Assert.Contains($"({rows.Length} entries)", result.Out, StringComparison.Ordinal);
                break;
            }

            args = ["schedules", "--cursor", next[(next.IndexOf("--cursor ", StringComparison.Ordinal) + 9)..].TrimEnd(')', '\r')];
        }

        Assert.Equal(Enumerable.Range(0, Entries).Select(i => $"entry-{i:D3}"), listed);

        // A script pages the same with --json: the items and the next page's cursor, as jobs list --json.
        var json = await _db.RunAsync(1, ["schedules", "--json", "--limit", "100"]);
        Assert.True(json.ExitCode == 0, json.ToString());
        Assert.Equal(100, json.Json.GetProperty("items").GetArrayLength());
        var cursor = json.Json.GetProperty("nextCursor").GetString();
        var rest = await _db.RunAsync(1, ["schedules", "--json", "--limit", "100", "--cursor", cursor!]);
        Assert.Equal(Enumerable.Range(100, 20).Select(i => $"entry-{i:D3}"),
            rest.Json.GetProperty("items").EnumerateArray().Select(e => e.GetProperty("entry").GetString()));
        Assert.Equal(System.Text.Json.JsonValueKind.Null, rest.Json.GetProperty("nextCursor").ValueKind);
    }

    [Theory]
    [InlineData("--limit", "0")]
    [InlineData("--limit", "501")]
    [InlineData("--cursor", "not-a-cursor!")]
    public async Task Jobs_schedules_refuses_a_limit_out_of_range_or_a_cursor_it_did_not_give(string option, string value)
    {
        await _db.MigrateAsync();
        var result = await _db.RunAsync(1, ["schedules", option, value]);
        Assert.True(result.ExitCode == 64, result.ToString());
        Assert.Contains(option, result.Error, StringComparison.Ordinal);
    }

    private static ScheduleRegistration Entry(string key) => new()
    {
        QueueName = "reports", EntryKey = key, JobName = "report", Description = "cron 0 3 * * *", Payload = "{}"u8.ToArray(),
        NextFireAt = DateTimeOffset.UtcNow.AddHours(1), TimeToLive = TimeSpan.FromSeconds(30),
    };
}
