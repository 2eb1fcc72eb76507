using Jobs.Sdk.Drivers;
using Jobs.Sdk.Postgres;
using Jobs.Sdk.Postgres.Tests;

namespace Jobs.Sdk.Cli.Tests;

/// <summary>
/// An operator names a schedule entry by its job (<c>jobs trigger nightly-digest</c>), as the README's examples did, while
/// the entry's key is <c>"{job name}@{schedule}"</c> (<c>nightly-digest@daily at 03:00 UTC</c>). The tool must not guess
/// (another entry's key may be that word), but its error must give the key to type.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class ScheduleEntryKeyTests(PostgresFixture fixture) : IAsyncLifetime
{
    private const string Key = "nightly-digest@daily at 03:00 UTC";

    private readonly CliSchema _db = new(fixture);

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _db.DisposeAsync().AsTask();

    [Theory]
    [InlineData("trigger")]
    [InlineData("schedules pause")]
    [InlineData("schedules resume")]
    public async Task A_job_name_instead_of_the_entry_key_fails_and_the_error_gives_the_key(string command)
    {
        var admin = await _db.MigrateAsync();
        await new PostgresJobAdminStore(_db.DataSource, _db.Name).PublishSchedulesAsync([new ScheduleRegistration
        {
            QueueName = "default", EntryKey = Key, JobName = "nightly-digest", Description = "daily at 03:00 UTC",
            Payload = """{"audience":"team"}"""u8.ToArray(), NextFireAt = DateTimeOffset.UtcNow.Date.AddDays(1).AddHours(3),
        }], default);
        var words = command.Split(' ');

        var result = await _db.RunAsync(words.Length, [.. words, "nightly-digest"]);

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.True(result.Error.Contains($"jobs {command} \"{Key}\"", StringComparison.Ordinal), result.ToString());
        Assert.Empty((await admin.ListJobsAsync(new JobQuery())).Items);
        Assert.False(Assert.Single(await admin.GetSchedulesAsync()).IsPaused);
    }
}
