using Jobs.Sdk.Postgres.Tests;

namespace Jobs.Sdk.Cli.Tests;

/// <summary>
/// A filter option given an empty or whitespace-only value (a script's <c>jobs delete --error "$PATTERN"</c> whose variable
/// is empty) is refused, naming the option: an empty text matched every job, so the bulk command acted on the whole store
/// as if <c>--all</c> had been given. A real process against a real PostgreSQL, one schema per test.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class EmptyFilterTests(PostgresFixture fixture) : IAsyncLifetime
{
    private readonly CliSchema _db = new(fixture);

    /// <summary>3 failed jobs without an error text and 2 pending ones due tomorrow: each bulk command has jobs it would change.</summary>
    public async Task InitializeAsync()
    {
        await _db.MigrateWithFailedEmailsAsync(3);
        await _db.ExecuteAsync($"""
            INSERT INTO "{_db.Name}".jobs (id, queue_name, name, payload, state, run_at)
            SELECT gen_random_uuid(), 'emails', 'send-email', jsonb_build_object('to', 'a@b.c'), 0, now() + interval '1 day' FROM generate_series(1, 2)
            """);
    }

    public Task DisposeAsync() => _db.DisposeAsync().AsTask();

    /// <summary>Every stored job's row as text (any change, even one that only touches updated_at, shows).</summary>
    private async Task<string> RowsAsync()
    {
        await using var command = _db.DataSource.CreateCommand(
            $"SELECT coalesce(string_agg(concat_ws('|', id, state, attempts, priority, run_at, updated_at, finished_at, cancel_requested, delete_requested), ',' ORDER BY id), '') FROM \"{_db.Name}\".jobs");
        return (string)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>Each filter option with an empty, whitespace-only or separators-only value, and the option the refusal names.</summary>
    public static TheoryData<string, string> EmptyFilters => new()
    {
        { "--error", "" },
        { "--error", "   " },
        { "--text", "" },
        { "--text", "\t" },
        { "--payload", "" },
        { "--payload", " " },
        { "--payload", "{}" },
        { "--payload", "[]" },
        { "--queue", "" },
        { "--queue", " " },
        { "--name", "" },
        { "--name", "," },
        { "--name", " , " },
        { "--state", "" },
        { "--state", "," },
        { "--since", "" },
        { "--until", " " },
    };

    [Theory]
    [MemberData(nameof(EmptyFilters))]
    public async Task Delete_refuses_an_empty_filter_value_and_deletes_nothing(string option, string value)
        => await RefusedAsync(option, ["delete", option, value]);

    [Theory]
    [MemberData(nameof(EmptyFilters))]
    public async Task A_dry_run_refuses_an_empty_filter_value_as_the_command_would(string option, string value)
        => await RefusedAsync(option, ["delete", "--dry-run", option, value]);

    [Theory]
    [InlineData("retry")]
    [InlineData("cancel")]
    [InlineData("delete")]
    [InlineData("run-now")]
    [InlineData("priority --to highest")]
    public async Task Every_bulk_command_refuses_an_empty_error_text_with_or_without_dry_run(string command)
    {
        await RefusedAsync("--error", [.. command.Split(' '), "--error", ""]);
        await RefusedAsync("--error", [.. command.Split(' '), "--dry-run", "--error", ""]);
    }

    [Theory]
    [InlineData("--error", "")]
    [InlineData("--name", ",")]
    [InlineData("--queue", " ")]
    public async Task An_empty_filter_beside_other_filters_or_all_is_refused_too(string option, string value)
    {
        // Beside a real filter an ignored empty one would widen the selection (--name "," dropped: every pending job).
        await RefusedAsync(option, ["delete", "--state", "pending", option, value]);
        await RefusedAsync(option, ["delete", "--all", option, value]);
    }

    [Theory]
    [MemberData(nameof(EmptyFilters))]
    public async Task List_refuses_an_empty_filter_value_too(string option, string value)
    {
        var result = await _db.RunAsync(1, ["list", option, value, "--json"]);

        Assert.True(result.ExitCode == 64, $"jobs list {option} '{value}' should exit 64 (a value the tool cannot use): {result}");
        Assert.True(result.Out.Length == 0, result.ToString());
        Assert.Contains("error: " + option + ":", result.Error);
        Assert.Contains("leave " + option + " out", result.Error);
    }

    private async Task RefusedAsync(string option, string[] args)
    {
        var before = await RowsAsync();
        var result = await _db.RunAsync(1, [.. args, "--json"]);
        var line = "jobs " + string.Join(' ', args.Select(a => a.Length == 0 || a.Contains(' ') ? $"'{a}'" : a));

        Assert.True(await RowsAsync() == before, $"{line} changed the jobs: {result}");
        Assert.True(result.ExitCode == 64, $"{line} should exit 64 (a value the tool cannot use), jobs unchanged: {result}");
        Assert.True(result.Out.Length == 0, result.ToString());
        Assert.Contains("error: " + option + ":", result.Error);
        Assert.Contains("use --all to act on every job", result.Error);
    }
}
