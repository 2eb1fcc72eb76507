using Jobs.Sdk.Postgres;
using Jobs.Sdk.Postgres.Tests;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Jobs.Sdk.Dashboard.Tests;

/// <summary>
/// The live hub's poll logs a store it cannot read (event 3000) through the app's logging providers, which
/// Microsoft.Extensions.Logging lets throw to the caller (a provider with a bug, a sink that is down). The workers' side
/// drops such an entry (GuardedLogger); the dashboard's must too, or one failed read while the log sink is down ends the
/// poll that every browser of the app shares.
/// </summary>
public sealed class LiveThrowingLoggerTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    [Fact]
    public async Task The_live_stream_reports_a_store_error_and_recovers_when_the_logging_provider_throws()
    {
        var schema = "livelog_" + Guid.NewGuid().ToString("N")[..8];
        var log = new ThrowingLog((_, _) => true, "Jobs.Sdk.Dashboard");
        await using var dataSource = PostgresJobsBuilderExtensions.CreateDataSource(postgres.ConnectionString);
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        try
        {
            await RunAsync();
        }
        finally
        {
            await ExecAsync(dataSource, $"DROP SCHEMA IF EXISTS \"{schema}\" CASCADE; DROP SCHEMA IF EXISTS \"{schema}_away\" CASCADE");
        }

        async Task RunAsync()
        {
            await using (var app = await DashboardTestApp.StartAsync(protect: false, time: time, services: s => s.AddSingleton<ILoggerProvider>(log), jobs: (
                j => j.UsePostgres(postgres.ConnectionString, o => { o.Schema = schema; o.QueueName = "emails"; }).AddJob<TestEmail, TestEmailHandler>(),
                _ => new PostgresJobAdminStore(dataSource, schema))))
            {
                await app.Queue.PushAsync(new TestEmail("a@example.com", "hi"));
                await using var browser = await LiveEventStream.OpenAsync(app, Caller.LocalAnonymous);
                Assert.Equal(1, (await browser.NextAsync("snapshot")).GetProperty("seq").GetInt64());

                // The store cannot be read (its schema is gone for a while) while the app's log sink is down.
                await ExecAsync(dataSource, $"ALTER SCHEMA \"{schema}\" RENAME TO \"{schema}_away\"");
                time.Advance(TimeSpan.FromSeconds(2));
                var error = await Record.ExceptionAsync(() => browser.NextAsync("store-error"));
                Assert.True(error is null,
                    $"The live stream sent no store-error within 20 s of a poll that could not read the store, with a logging provider that " +
                    $"throws ({log.Thrown} entries threw; hub polling: {app.Hub.IsPolling}, polls: {app.Hub.PollCount}): {error?.GetType().Name}");

                // The store is back: the next poll reaches every browser, and a browser that opens the dashboard now.
                await ExecAsync(dataSource, $"ALTER SCHEMA \"{schema}_away\" RENAME TO \"{schema}\"");
                time.Advance(TimeSpan.FromSeconds(2));
                Assert.Equal(3, (await browser.NextAsync("snapshot")).GetProperty("seq").GetInt64());
                await using var later = await LiveEventStream.OpenAsync(app, Caller.LocalAnonymous);
                Assert.Equal(3, (await later.NextAsync("snapshot")).GetProperty("seq").GetInt64());
                Assert.True(log.Thrown > 0, "the logging provider threw on the hub's entry (the case this test is about)");
            }
        }
    }

    private static async Task ExecAsync(Npgsql.NpgsqlDataSource dataSource, string sql)
    {
        await using var command = dataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }
}
