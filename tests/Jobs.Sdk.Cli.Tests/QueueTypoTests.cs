using Jobs.Sdk.Postgres.Tests;

namespace Jobs.Sdk.Cli.Tests;

/// <summary>
/// <c>--queue emial</c> at 3 a.m.: a command by filters on a queue no job, live worker or pause has matches nothing, which is
/// no error (a script's filter may match nothing), but the operator who meant <c>emails</c> must not read "0 job(s)
/// changed" as "nothing to do there": the tool warns on stderr, naming the queues in use, as <c>queue pause</c> does.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class QueueTypoTests(PostgresFixture fixture) : IAsyncLifetime
{
    private readonly CliSchema _db = new(fixture);

    public Task InitializeAsync() => _db.MigrateWithFailedEmailsAsync();

    public Task DisposeAsync() => _db.DisposeAsync().AsTask();

    [Theory]
    [InlineData("retry", "--queue", "emial", "--state", "failed")]
    [InlineData("delete", "--dry-run", "--queue", "emial")]
    [InlineData("list", "--queue", "emial", "--json")]
    [InlineData("cleanup", "--failed", "7d", "--queue", "emial")]
    public async Task A_queue_no_job_or_worker_has_is_named_in_a_warning_with_the_queues_in_use(params string[] args)
    {
        var result = await _db.RunAsync(1, args);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("warning: ", result.Error);
        Assert.Contains("'emial'", result.Error);
        Assert.Contains("Queues in use: emails", result.Error);
        Assert.Equal(3, await _db.ScalarAsync($"""SELECT count(*) FROM "{_db.Name}".jobs WHERE state = 4"""));
    }

    [Theory]
    [InlineData("retry", "--dry-run", "--queue", "emails", "--state", "failed")]
    [InlineData("list", "--queue", "emails")]
    public async Task A_queue_in_use_gets_no_warning(params string[] args)
    {
        var result = await _db.RunAsync(1, args);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.DoesNotContain("warning", result.Error);
    }
}
