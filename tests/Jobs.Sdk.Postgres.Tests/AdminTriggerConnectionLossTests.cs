using Jobs.Sdk.Drivers;
using Npgsql;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// An operator's schedule trigger whose connection breaks after it was sent tells the truth, as a push does: the database
/// may have committed the job. Reporting a failure then makes the operator trigger again, and the entry's job runs twice.
/// A proxy plays the network: it lets the trigger's insert reach the server and holds the reply until the test cuts it.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class AdminTriggerConnectionLossTests(PostgresFixture fixture)
{
    [Fact]
    public async Task A_trigger_whose_reply_is_lost_after_its_commit_reports_the_job_it_pushed()
    {
        var schema = "trig_" + Guid.NewGuid().ToString("N")[..8];
        await using var direct = fixture.CreateDataSource();
        await PostgresJobMigrations.ApplyAsync(direct, schema);
        await using var proxy = PushFaults.StartProxy(fixture);
        await using var throughProxy = PushFaults.ThroughProxy(fixture, proxy);
        var store = new PostgresJobAdminStore(throughProxy, schema);
        try
        {
            await new PostgresJobAdminStore(direct, schema).PublishSchedulesAsync([new ScheduleRegistration
            {
                QueueName = "reports", EntryKey = "nightly", JobName = "report", Description = "cron 0 0 * * *", Payload = "{}"u8.ToArray(),
            }], default);
            var id = JobId.New();

            // The insert carries the job's id (binary uuid): its reply is held, then the connection is cut.
            proxy.HoldRepliesAfter(id.Value.ToByteArray(bigEndian: true));
            var trigger = store.TriggerScheduleAsync("nightly", id, default);
            await TestExtensions.EventuallyAsync(async () => await direct.ScalarAsync($"SELECT count(*) FROM \"{schema}\".jobs WHERE id = '{id.Value}'") == 1,
                what: "the trigger committed");
            proxy.CutHeld();

            var (_, thrown) = await PushFaults.OutcomeAsync(trigger);
            Assert.True(thrown is null, $"The trigger {(thrown is null ? "returned" : $"threw {thrown.GetType().Name}: {thrown.Message}")} although the database stored its job.");
            Assert.Equal(1, await trigger);
        }
        finally
        {
            await using var drop = direct.CreateCommand($"DROP SCHEMA IF EXISTS \"{schema}\" CASCADE");
            await drop.ExecuteNonQueryAsync();
        }
    }
}
