using Jobs.Sdk.Drivers;
using Jobs.Sdk.Postgres;
using Jobs.Sdk.Postgres.Tests;

namespace Jobs.Sdk.Cli.Tests;

/// <summary>
/// Two applications share one job schema, each with its own queue and the same scheduled cleanup (the default key
/// <c>jobs.cleanup@daily at 03:00 UTC</c>). An operator of one of them pauses, resumes or triggers "its" cleanup by the key
/// <c>jobs schedules</c> lists: the tool must act on the entry of the queue named (<c>--queue</c>) and, given the key alone,
/// refuse, naming the queues, rather than act on both applications' entries.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class ScheduleQueueScopeTests(PostgresFixture fixture) : IAsyncLifetime
{
    private const string Key = "jobs.cleanup@daily at 03:00 UTC";

    private readonly CliSchema _db = new(fixture);

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _db.DisposeAsync().AsTask();

    [Theory]
    [InlineData("schedules pause")]
    [InlineData("trigger")]
    public async Task A_key_two_queues_publish_is_refused_without_a_queue_and_acted_on_in_the_queue_named(string command)
    {
        var admin = await _db.MigrateAsync();
        await PublishAsync("billing", "mail");
        var words = command.Split(' ');

        var alone = await _db.RunAsync(words.Length, [.. words, Key]);

        Assert.True(alone.ExitCode == 64, $"`jobs {command} \"{Key}\"` of a key two queues publish: {alone}\n--- acted on: {await ActedOnAsync(admin)}");
        Assert.True(alone.Error.Contains("'billing'", StringComparison.Ordinal) && alone.Error.Contains("'mail'", StringComparison.Ordinal)
            && alone.Error.Contains("--queue", StringComparison.Ordinal), alone.ToString());
        Assert.Equal("nothing", await ActedOnAsync(admin));

        var named = await _db.RunAsync(words.Length, [.. words, "--queue", "billing", Key]);

        Assert.True(named.ExitCode == 0, named.ToString());
        Assert.Equal("billing", await ActedOnAsync(admin));
        Assert.Contains("billing", named.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_queue_that_has_no_entry_of_the_key_fails_and_names_the_queues_that_have()
    {
        var admin = await _db.MigrateAsync();
        await PublishAsync("billing", "mail");

        var wrong = await _db.RunAsync(2, ["schedules", "pause", "--queue", "bililng", Key]);

        Assert.True(wrong.ExitCode == 1, wrong.ToString());
        Assert.True(wrong.Error.Contains("'bililng'", StringComparison.Ordinal) && wrong.Error.Contains("--queue billing", StringComparison.Ordinal), wrong.ToString());
        Assert.Equal("nothing", await ActedOnAsync(admin));
    }

    [Fact]
    public async Task Triggering_a_paused_entry_exits_1_saying_it_is_paused_and_how_to_resume_it()
    {
        var admin = await _db.MigrateAsync();
        await PublishAsync("billing");
        Assert.Equal(0, (await _db.RunAsync(2, ["schedules", "pause", Key])).ExitCode);

        var trigger = await _db.RunAsync(1, ["trigger", Key]);

        Assert.True(trigger.ExitCode == 1, trigger.ToString());
        Assert.True(trigger.Error.Contains("is paused", StringComparison.Ordinal)
            && trigger.Error.Contains($"jobs schedules resume \"{Key}\" --queue billing", StringComparison.Ordinal), trigger.ToString());
        Assert.Empty((await admin.ListJobsAsync(new JobQuery())).Items);
    }

    private Task PublishAsync(params string[] queues) => new PostgresJobAdminStore(_db.DataSource, _db.Name).PublishSchedulesAsync([.. queues.Select(q => new ScheduleRegistration
    {
        QueueName = q, EntryKey = Key, JobName = "jobs.cleanup:" + q, Description = "daily at 03:00 UTC", Payload = "{}"u8.ToArray(),
        NextFireAt = DateTimeOffset.UtcNow.Date.AddDays(1).AddHours(3), TimeToLive = TimeSpan.FromMinutes(10),
    })], default);

    /// <summary>The queues whose entry was paused or got a job, or "nothing".</summary>
    private async Task<string> ActedOnAsync(JobAdmin admin)
    {
        var paused = (await admin.GetSchedulesAsync()).Where(e => e.IsPaused).Select(e => e.QueueName);
        var pushed = (await admin.ListJobsAsync(new JobQuery())).Items.Select(j => j.QueueName);
        var queues = paused.Concat(pushed).Distinct().Order(StringComparer.Ordinal).ToArray();
        return queues.Length == 0 ? "nothing" : string.Join(", ", queues);
    }
}
