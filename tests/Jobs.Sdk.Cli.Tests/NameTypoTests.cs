using Jobs.Sdk.Postgres.Tests;

namespace Jobs.Sdk.Cli.Tests;

/// <summary>
/// <c>--name send-emial</c>: a command by filters whose job name no stored job, schedule entry or live worker has matches
/// nothing, as a queue typo did; the operator who meant <c>send-email</c> must not read "0 job(s) changed" as "nothing to
/// do". The tool warns on stderr (exit 0: a filter may match nothing), as it does for <c>--queue</c>.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class NameTypoTests(PostgresFixture fixture) : IAsyncLifetime
{
    private readonly CliSchema _db = new(fixture);

    public Task InitializeAsync() => _db.MigrateWithFailedEmailsAsync();

    public Task DisposeAsync() => _db.DisposeAsync().AsTask();

    [Theory]
    [InlineData("retry", "--name", "send-emial", "--state", "failed")]
    [InlineData("delete", "--dry-run", "--name", "send-emial")]
    [InlineData("list", "--name", "send-emial", "--json")]
    public async Task A_job_name_nothing_has_is_named_in_a_warning(params string[] args)
    {
        var result = await _db.RunAsync(1, args);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("warning: ", result.Error);
        Assert.Contains("'send-emial'", result.Error);
        Assert.Equal(3, await _db.ScalarAsync($"""SELECT count(*) FROM "{_db.Name}".jobs WHERE state = 4"""));
    }

    /// <summary>Passes as written (a guard): a name jobs have, that matches nothing in the states asked, gets no warning.</summary>
    [Theory]
    [InlineData("retry", "--name", "send-email", "--state", "pending")]
    [InlineData("list", "--name", "send-email,send-emial", "--state", "failed")]
    public async Task A_name_in_use_gets_no_warning(params string[] args)
    {
        var result = await _db.RunAsync(1, args);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.DoesNotContain("warning", result.Error);
    }
}
