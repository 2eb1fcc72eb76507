using Jobs.Sdk.Postgres;
using Jobs.Sdk.Postgres.Tests;
using Npgsql;

namespace Jobs.Sdk.Admin.Tests;

/// <summary>
/// Two applications share one job schema, each with its own queue and the same scheduled cleanup: both publish the entry key
/// <c>jobs.cleanup@cron 0 0 1 1 * UTC</c>. An operator's action on the key in one application's admin must not reach the
/// other application's entry.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresScheduleScopeTests(PostgresFixture fixture) : IAsyncLifetime
{
    private readonly NpgsqlDataSource _dataSource = PostgresJobsBuilderExtensions.CreateDataSource(fixture.ConnectionString);
    private readonly string _schema = "scope_" + Guid.NewGuid().ToString("N")[..10];

    private AdminHost App(string queue) => AdminHost.Create(jobs => jobs.UsePostgres(_dataSource, o =>
    {
        o.Schema = _schema;
        o.QueueName = queue;
        o.PollInterval = TimeSpan.FromMilliseconds(200);
    }), more: jobs => jobs.AddSchedule(s => s.AddCleanup(new CleanupOptions { CompletedJobs = CleanupAction.RemoveOlderThan(TimeSpan.FromDays(7)) },
        Schedule.Cron("0 0 1 1 *"))));

    [Fact]
    public async Task Pausing_and_triggering_the_cleanup_entry_of_one_application_leaves_the_other_applications_entry_alone()
    {
        await using var billing = await App("billing").StartAsync();
        await using var mail = await App("mail").StartAsync();
        var admin = billing.Admin;
        var entries = await Eventually.GetAsync(() => admin.GetSchedulesAsync(), s => s.Count == 2, "both applications published their cleanup entry");
        var key = entries[0].EntryKey;
        Assert.Equal([key, key], entries.Select(e => e.EntryKey));

        // The billing application's operator pauses "its" cleanup by the key the list shows.
        var paused = await PausedQueuesAfterAsync(() => admin.PauseScheduleAsync(key));

        Assert.True(paused.Count == 0, $"Pausing entry '{key}' by its key alone paused it in queue(s) {string.Join(", ", paused)}: " +
            "the key names the entries of two applications (billing, mail), and neither was named");

        // And runs it now: one cleanup job, in billing's queue, or none while the key is ambiguous; never mail's.
        try
        {
            await admin.TriggerScheduleAsync(key);
        }
        catch (ArgumentException)
        {
            // Refused: nothing pushed.
        }

        var pushed = (await admin.ListJobsAsync(new JobQuery())).Items.Select(j => j.QueueName).Order(StringComparer.Ordinal).ToList();
        Assert.True(!pushed.Contains("mail"), $"Triggering entry '{key}' by its key alone pushed jobs in queue(s) {string.Join(", ", pushed)}, " +
            "the other application's (mail) among them");
    }

    private async Task<List<string>> PausedQueuesAfterAsync(Func<Task<int>> act)
    {
        try
        {
            await act();
        }
        catch (ArgumentException)
        {
            // Refused: nothing changed.
        }

        await using var read = _dataSource.CreateCommand($"SELECT queue_name FROM \"{_schema}\".schedules WHERE paused ORDER BY 1");
        await using var reader = await read.ExecuteReaderAsync();
        var queues = new List<string>();
        while (await reader.ReadAsync())
        {
            queues.Add(reader.GetString(0));
        }

        return queues;
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await using (var drop = _dataSource.CreateCommand($"DROP SCHEMA IF EXISTS \"{_schema}\" CASCADE"))
        {
            await drop.ExecuteNonQueryAsync();
        }

        await _dataSource.DisposeAsync();
    }
}
