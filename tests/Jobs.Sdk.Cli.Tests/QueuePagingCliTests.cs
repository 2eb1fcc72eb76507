using System.Text.Json;
using Jobs.Sdk.Postgres.Tests;

namespace Jobs.Sdk.Cli.Tests;

/// <summary>
/// A store of many queues: <c>jobs status</c> printed every one of them at once, with no way to page. With
/// <c>--limit</c>/<c>--cursor</c> it pages its queues as <c>jobs schedules</c> pages entries (by name, ordinal; the next
/// page's cursor printed); without them it prints every queue as before.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class QueuePagingCliTests(PostgresFixture fixture) : IAsyncLifetime
{
    private const int Queues = 120;
    private readonly CliSchema _db = new(fixture);

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _db.DisposeAsync().AsTask();

    [Fact]
    public async Task Jobs_status_with_a_limit_prints_a_page_of_queues_and_the_cursor_of_the_next_until_every_queue_was_listed_once()
    {
        var admin = await _db.MigrateAsync();
        var names = Enumerable.Range(0, Queues).Select(i => $"q-{i:D3}").ToArray();
        foreach (var name in names)
        {
            await admin.PauseQueueAsync(name, "paging");
        }

        var listed = new List<string>();
        string[] args = ["status", "--limit", "50"];
        for (var page = 0; page < 10; page++)
        {
            var result = await _db.RunAsync(1, args);
            Assert.True(result.ExitCode == 0, result.ToString());
            var rows = QueueRows(result.Out);
            Assert.Equal(page < 2 ? 50 : 20, rows.Length);
            listed.AddRange(rows);
            var next = result.Out.Split('\n').SingleOrDefault(l => l.Contains("next page: --cursor ", StringComparison.Ordinal));
            if (next is null)
            {
                Assert.Contains($"({rows.Length} queues)", result.Out, StringComparison.Ordinal);
                break;
            }

            Assert.Contains($"({rows.Length} queues; next page: --cursor ", next, StringComparison.Ordinal);
            args = ["status", "--limit", "50", "--cursor", next[(next.IndexOf("--cursor ", StringComparison.Ordinal) + 9)..].TrimEnd(')', '\r')];
        }

        Assert.Equal(names, listed);

        // A script pages the same with --json: the queues and the next page's cursor.
        var json = await _db.RunAsync(1, ["status", "--json", "--limit", "100"]);
        Assert.True(json.ExitCode == 0, json.ToString());
        Assert.Equal(100, json.Json.GetProperty("queues").GetArrayLength());
        var cursor = json.Json.GetProperty("nextCursor").GetString();
        var rest = await _db.RunAsync(1, ["status", "--json", "--limit", "100", "--cursor", cursor!]);
        Assert.Equal(names[100..], rest.Json.GetProperty("queues").EnumerateArray().Select(q => q.GetProperty("name").GetString()));
        Assert.Equal(JsonValueKind.Null, rest.Json.GetProperty("nextCursor").ValueKind);
    }

    [Fact]
    public async Task Jobs_status_without_a_limit_still_prints_every_queue_and_no_cursor()
    {
        var admin = await _db.MigrateAsync();
        var names = Enumerable.Range(0, Queues).Select(i => $"q-{i:D3}").ToArray();
        foreach (var name in names)
        {
            await admin.PauseQueueAsync(name, "paging");
        }

        var human = await _db.RunAsync(1, ["status"]);
        Assert.True(human.ExitCode == 0, human.ToString());
        Assert.Equal(names, QueueRows(human.Out));
        Assert.DoesNotContain("--cursor", human.Out, StringComparison.Ordinal);
        Assert.DoesNotContain(" queues)", human.Out, StringComparison.Ordinal);

        var json = await _db.RunAsync(1, ["status", "--json"]);
        Assert.True(json.ExitCode == 0, json.ToString());
        Assert.Equal(names, json.Json.GetProperty("queues").EnumerateArray().Select(q => q.GetProperty("name").GetString()));
        Assert.False(json.Json.TryGetProperty("nextCursor", out _), json.ToString());
    }

    [Theory]
    [InlineData("--limit", "0")]
    [InlineData("--limit", "501")]
    [InlineData("--cursor", "not-a-cursor!")]
    public async Task Jobs_status_refuses_a_limit_out_of_range_or_a_cursor_it_did_not_give(string option, string value)
    {
        await _db.MigrateAsync();
        var result = await _db.RunAsync(1, ["status", option, value]);
        Assert.True(result.ExitCode == 64, result.ToString());
        Assert.Contains(option + ":", result.Error, StringComparison.Ordinal);
    }

    private static string[] QueueRows(string output)
        => output.Split('\n').Where(l => l.StartsWith("q-", StringComparison.Ordinal)).Select(l => l.Split(' ')[0]).ToArray();
}
