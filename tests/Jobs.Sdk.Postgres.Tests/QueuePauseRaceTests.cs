using Microsoft.Extensions.DependencyInjection;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// <see cref="JobAdmin.PauseQueueAsync"/> says whether the queue was running before the pause, and audits the pause as a
/// change only then: true of the state it really found when another operator's pause or resume of the queue commits while
/// it runs. The other operator's statement (the admin store's own text) runs in a transaction the test holds open until
/// the pause waits for it: deterministic, no sleeps.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class QueuePauseRaceTests(PostgresFixture fixture)
{
    private const string WaitingOnTransaction = "SELECT count(*) FROM pg_locks WHERE locktype = 'transactionid' AND NOT granted";

    [Theory]
    [InlineData(false)] // another operator pauses the running queue at the same time: this pause found it paused
    [InlineData(true)]  // another operator resumes the paused queue at the same time: this pause found it running
    public async Task A_queue_pause_racing_another_operators_pause_or_resume_reports_the_state_it_found(bool otherResumes)
    {
        await using var q = await TestQueue.CreateAsync(fixture, jobs => jobs.AddJob<UniqueAccountJob>((_, _, _) => Task.CompletedTask));
        var admin = q.Services.GetRequiredService<JobAdmin>();
        var queue = q.Driver.QueueName;
        if (otherResumes)
        {
            Assert.True(await admin.PauseQueueAsync(queue, "before"));
        }

        await using var direct = fixture.CreateDataSource();
        await using var connection = await direct.OpenConnectionAsync();
        await using var other = await connection.BeginTransactionAsync();
        await using (var command = new Npgsql.NpgsqlCommand(
            (otherResumes ? AdminSql.ResumeQueue : AdminSql.PauseQueue).Replace("{s}", "jobs_test", StringComparison.Ordinal), connection, other))
        {
            command.Parameters.Add(new Npgsql.NpgsqlParameter { Value = queue });
            if (!otherResumes)
            {
                command.Parameters.Add(new Npgsql.NpgsqlParameter { Value = "the other operator" });
            }

            await command.ExecuteNonQueryAsync();
        }

        var pause = admin.PauseQueueAsync(queue, "this operator");
        await TestExtensions.EventuallyAsync(async () => pause.IsCompleted || await direct.ScalarAsync(WaitingOnTransaction) > 0,
            what: "the pause waits for the other operator's statement");
        await other.CommitAsync();

        var wasRunning = await pause.WaitAsync(TimeSpan.FromMinutes(1));
        Assert.True(wasRunning == otherResumes,
            otherResumes
                ? "The pause said the queue was already paused, yet the other operator's resume had committed before it paused the queue."
                : "The pause said the queue was running, yet the other operator's pause had committed before it: both pauses claim the change.");
        Assert.True(await direct.ScalarAsync($"SELECT count(*) FROM jobs_test.queues WHERE name = '{queue}' AND paused") == 1, "the queue is paused");
        var audit = (await admin.GetAuditLogAsync(10)).First(e => e.Action == "queue.pause" && e.Target == queue);
        Assert.Equal(otherResumes ? 1 : 0, audit.RowsChanged);
    }
}
