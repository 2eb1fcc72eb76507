using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// A database (or role) whose <c>default_transaction_isolation</c> is REPEATABLE READ or SERIALIZABLE: the worker's claims,
/// lease renewals, outcome writes and rescues are written for READ COMMITTED (SKIP LOCKED claims, updates of rows other
/// workers change). Before, a worker host started on such a database, and under load its claims, outcomes and rescues
/// failed with 40001 ("could not serialize access due to read/write dependencies among transactions") and were retried
/// with backoff: a stream of warnings and a slowed queue, nothing saying why. The host's start must fail instead, naming
/// the setting and the fix; with the advised connection-string option the same database runs jobs without a 40001.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class IsolationLevelTests(PostgresFixture fixture) : IAsyncLifetime
{
    private ScratchDatabase? _database;

    public async Task InitializeAsync() => _database = await ScratchDatabase.CreateAsync(fixture, "isolation");

    public async Task DisposeAsync() => await _database!.DisposeAsync();

    [Theory]
    [InlineData("serializable")]
    [InlineData("repeatable read")]
    public async Task A_worker_host_on_a_database_defaulting_to_another_isolation_fails_at_start_naming_the_setting(string isolation)
    {
        await _database!.SetAsync($"default_transaction_isolation = '{isolation}'");
        var connectionString = _database.ConnectionString;
        var queue = "isolation_" + Guid.NewGuid().ToString("N")[..8];

        using (var host = BuildHost(connectionString, queue, _ => { }, new LevelLog()))
        {
            var start = await Record.ExceptionAsync(() => host.StartAsync().WaitAsync(TimeSpan.FromSeconds(60)));

            var error = Assert.IsType<InvalidOperationException>(start);
            Assert.Contains("default_transaction_isolation", error.Message, StringComparison.Ordinal);
            Assert.Contains($"'{isolation}'", error.Message, StringComparison.Ordinal);
            Assert.Contains(@"Options=-c default_transaction_isolation=read\ committed", error.Message, StringComparison.Ordinal);
            await host.StopAsync().WaitAsync(TimeSpan.FromSeconds(60));
        }

        // The advice works: the jobs' own connection string pins READ COMMITTED, and two worker hosts run every job once.
        var pinned = connectionString + @";Options=-c default_transaction_isolation=read\ committed";
        var logs = new LevelLog();
        var runs = new Recorder<int>();
        using var first = BuildHost(pinned, queue, runs.Add, logs);
        using var second = BuildHost(pinned, queue, runs.Add, logs);
        await first.StartAsync().WaitAsync(TimeSpan.FromSeconds(60));
        await second.StartAsync().WaitAsync(TimeSpan.FromSeconds(60));
        await first.Services.GetRequiredService<JobQueue>().PushManyAsync(Enumerable.Range(0, 200).Select(i => new ValueJob(i)));
        await runs.WaitForCountAsync(200, 60);
        await first.StopAsync().WaitAsync(TimeSpan.FromSeconds(60));
        await second.StopAsync().WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(Enumerable.Range(0, 200), runs.Items.Order());
        Assert.DoesNotContain(logs.Warnings, w => w.Entry.Contains("40001", StringComparison.Ordinal));
        Assert.Empty(logs.Errors);
    }

    private static IHost BuildHost(string connectionString, string queue, Action<int> run, LevelLog logs)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders().AddProvider(logs);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(10));
        builder.Services.AddJobs(jobs => jobs
            .UsePostgres(connectionString, o =>
            {
                o.Schema = "jobs_test";
                o.QueueName = queue;
                o.PollInterval = TimeSpan.FromMilliseconds(100);
            })
            .AddJob<ValueJob>((job, _, _) =>
            {
                run(job.Value);
                return Task.CompletedTask;
            })
            .AddWorkers(o => o.Concurrency = 4));
        return builder.Build();
    }
}
