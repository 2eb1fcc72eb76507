using System.Text;
using Jobs.Sdk.Drivers;
using Npgsql;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// Lists sorted by name (counts by name, waiting names, schedules, workers, throughput) come in ordinal order whatever the
/// database's collation, as on the in-memory driver. On a database created with an ICU en-US locale they came in the
/// collation's order ("a" before "B", "job_1" before "job-2"), and the dashboard and CLI showed them differently per database.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class NameCollationOrderTests(PostgresFixture fixture) : IAsyncLifetime
{
    private const string Schema = "jobs_collation";

    /// <summary>Names whose ordinal order differs from en-US's (which gives a, B, job_1, job-2).</summary>
    private static readonly string[] Names = ["B", "a", "job-2", "job_1"];

    private static readonly string[] Ordinal = [.. Names.Order(StringComparer.Ordinal)];

    private readonly string _database = "collation_" + Guid.NewGuid().ToString("N")[..10];
    private NpgsqlDataSource? _admin;

    public async Task InitializeAsync()
    {
        _admin = fixture.CreateDataSource();
        await using var command = _admin.CreateCommand(
            $"CREATE DATABASE \"{_database}\" TEMPLATE template0 ENCODING 'UTF8' LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'");
        await command.ExecuteNonQueryAsync();
    }

    public async Task DisposeAsync()
    {
        if (_admin is not null)
        {
            await using var command = _admin.CreateCommand($"DROP DATABASE IF EXISTS \"{_database}\" WITH (FORCE)");
            await command.ExecuteNonQueryAsync();
            await _admin.DisposeAsync();
        }
    }

    [Fact]
    public async Task Names_entries_and_workers_are_listed_in_ordinal_order_on_an_icu_en_us_database()
    {
        await using var dataSource = fixture.CreateDataSource(b => b.Database = _database);
        await using (var check = dataSource.CreateCommand("SELECT string_agg(x, ',' ORDER BY x) FROM unnest(ARRAY['B', 'a']) AS t(x)"))
        {
            // The database sorts as en-US (else this test proves nothing).
            Assert.Equal("a,B", await check.ExecuteScalarAsync());
        }

        await using var driver = new PostgresJobDriver(fixture.CreateDataSource(b => b.Database = _database), new PostgresJobDriverOptions
        {
            Schema = Schema,
            QueueName = "q",
        }, logger: null, timeProvider: null, ownsDataSource: true);
        await driver.WaitUntilReadyAsync(default);
        var admin = new PostgresJobAdminStore(driver.DataSource, Schema);

        var past = DateTimeOffset.UtcNow.AddHours(-1);
        await driver.PushAsync([.. Names.Select(n => new JobPushRecord { Id = JobId.New(), Name = n, Payload = "{}"u8.ToArray(), RunAt = past })], null, default);
        await admin.PublishSchedulesAsync([.. Names.Select(n => new ScheduleRegistration
        {
            QueueName = "q", EntryKey = n, JobName = n, Description = "hourly", Payload = "{}"u8.ToArray(),
        })], default);
        foreach (var name in Names)
        {
            await admin.ReportWorkerAsync(new WorkerHeartbeat
            {
                WorkerId = name, Host = "h", ProcessId = 1, StartedAt = past, Queues = ["q"], JobNames = [], TimeToLive = TimeSpan.FromHours(1),
            }, default);
        }

        var minute = new DateTimeOffset(past.Year, past.Month, past.Day, past.Hour, past.Minute, 0, TimeSpan.Zero);
        await admin.ReportThroughputAsync(new JobThroughputReport
        {
            WorkerId = "w",
            Minutes = [.. Names.Select(n => new JobThroughputMinute(minute, n, 1, 0))],
        }, default);

        var lists = new StringBuilder()
            .Append("counts: ").AppendJoin(",", (await driver.GetCountsByNameAsync(default)).Select(c => c.Name))
            .Append("; waiting: ").AppendJoin(",", (await driver.GetWaitingNamesAsync(TimeSpan.Zero, default)).Select(w => w.Name))
            .Append("; schedules: ").AppendJoin(",", (await admin.GetSchedulesAsync(default)).Select(s => s.EntryKey))
            .Append("; workers: ").AppendJoin(",", (await admin.GetWorkersAsync(default)).Select(w => w.WorkerId))
            .Append("; throughput: ").AppendJoin(",", (await admin.GetThroughputAsync(minute, minute.AddMinutes(1), default)).Select(t => t.QueueName))
            .ToString();
        var expected = string.Join(",", Ordinal);
        Assert.Equal($"counts: {expected}; waiting: {expected}; schedules: {expected}; workers: {expected}; throughput: {expected}", lists);
    }
}
