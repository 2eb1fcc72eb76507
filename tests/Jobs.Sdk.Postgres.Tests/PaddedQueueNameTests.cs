using Microsoft.Extensions.DependencyInjection;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// A queue name with whitespace at either end (<c>"emails "</c> from a configuration value, <c>" "</c>, <c>"\t"</c>) is
/// refused at every entry point with an <see cref="ArgumentException"/> naming the parameter. It used to be another queue:
/// a push to <c>"emails "</c> stored a job no worker of <c>"emails"</c> ever claimed, a pause of <c>"emails "</c> paused
/// nothing that runs, and a driver configured with <c>"emails "</c> served a queue of its own.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class PaddedQueueNameTests(PostgresFixture fixture)
{
    public static TheoryData<string> Padded => [" ", "\t", "emails ", " emails", "emails\n", "\u00A0emails", "emails\u3000"];

    [Theory]
    [MemberData(nameof(Padded))]
    public async Task A_push_to_a_queue_name_with_whitespace_at_either_end_is_refused_and_nothing_is_stored(string name)
    {
        await using var q = await TestQueue.CreateAsync(fixture, b => b.AddJob<MessageJob>((_, _, _) => Task.CompletedTask));

        var marker = Guid.NewGuid().ToString("N");
        var one = await Assert.ThrowsAsync<ArgumentException>(() => q.Queue.PushAsync(new MessageJob(1, marker), new JobOptions { Queue = name }));
        var many = await Assert.ThrowsAsync<ArgumentException>(() => q.Queue.PushManyAsync([new MessageJob(1, marker)], new JobOptions { Queue = name }));

        Assert.Equal("options.Queue", one.ParamName);
        Assert.Equal("options.Queue", many.ParamName);
        Assert.Contains("whitespace", one.Message, StringComparison.Ordinal);
        Assert.Equal(0L, await q.DataSource.ScalarAsync($"SELECT count(*) FROM jobs_test.jobs WHERE payload->>'message' = '{marker}'"));
    }

    [Theory]
    [InlineData("AddQueue")]
    [InlineData("UsePostgres")]
    [InlineData("PauseQueueAsync")]
    [InlineData("ResumeQueueAsync")]
    [InlineData("JobAdmin.PauseQueueAsync")]
    [InlineData("JobAdmin.ResumeQueueAsync")]
    [InlineData("GetCountsAsync")]
    [InlineData("CleanupAsync")]
    public async Task Every_entry_point_refuses_a_queue_name_with_trailing_whitespace(string entry)
    {
        var name = $"emails_{Guid.NewGuid().ToString("N")[..8]} ";
        var expectedParam = entry switch { "AddQueue" => "name", "UsePostgres" => "PostgresJobDriverOptions.QueueName", _ => "queue" };
        var error = await Record.ExceptionAsync(async () =>
        {
            await using var q = await TestQueue.CreateAsync(fixture, b =>
            {
                b.AddJob<MessageJob>((_, _, _) => Task.CompletedTask);
                if (entry == "AddQueue")
                {
                    b.AddQueue(name);
                }
            }, driver: o =>
            {
                if (entry == "UsePostgres")
                {
                    o.QueueName = name;
                }
            });
            var admin = q.Services.GetRequiredService<JobAdmin>();
            await (entry switch
            {
                "PauseQueueAsync" => q.Queue.PauseQueueAsync(name, "provider outage"),
                "ResumeQueueAsync" => q.Queue.ResumeQueueAsync(name),
                "JobAdmin.PauseQueueAsync" => admin.PauseQueueAsync(name, "provider outage"),
                "JobAdmin.ResumeQueueAsync" => admin.ResumeQueueAsync(name),
                "GetCountsAsync" => q.Queue.GetCountsAsync(name),
                "CleanupAsync" => q.Queue.CleanupAsync(name, new CleanupOptions { FailedJobs = CleanupAction.Remove }),
                _ => Task.CompletedTask,
            });
        });

        var refused = Assert.IsAssignableFrom<ArgumentException>(error);
        Assert.Equal(expectedParam, refused.ParamName);
        Assert.Contains($"'{name}'", refused.Message, StringComparison.Ordinal);
        Assert.Contains("whitespace", refused.Message, StringComparison.Ordinal);
        await using var db = fixture.CreateDataSource();
        Assert.Equal(0L, await db.ScalarAsync($"SELECT count(*) FROM jobs_test.queues WHERE name = {Literal(name)}"));
    }

    /// <summary>A PostgreSQL string literal of <paramref name="text"/> (a newline or a tab in it is itself).</summary>
    private static string Literal(string text) => "'" + text.Replace("'", "''", StringComparison.Ordinal) + "'";
}
