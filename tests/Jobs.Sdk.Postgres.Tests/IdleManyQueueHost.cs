using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// A generic host serving eleven idle queues (the default one and ten added) on a data source of its own application name,
/// for tests that count the host's server connections (<see cref="ServerConnections"/>): each queue keeps its held
/// claim-and-renewal connection, and the pool closes within seconds what a burst opened, so each burst opens its
/// connections again and shows in <c>pg_stat_activity</c>.
/// </summary>
internal sealed class IdleManyQueueHost : IAsyncDisposable
{
    public const int AddedQueues = 10;

    private IdleManyQueueHost(IHost host, NpgsqlDataSource dataSource, NpgsqlDataSource observer, string app)
    {
        Host = host;
        DataSource = dataSource;
        Observer = observer;
        App = app;
        var worker = host.Services.GetRequiredService<JobWorker>();
        Queues = [worker, .. worker.Lanes];
    }

    public IHost Host { get; }
    public NpgsqlDataSource DataSource { get; }

    /// <summary>A data source of the test's own, under another application name, to count the host's connections with.</summary>
    public NpgsqlDataSource Observer { get; }

    /// <summary>The host's application name in <c>pg_stat_activity</c>.</summary>
    public string App { get; }

    /// <summary>The host's queues' workers: the default queue's first.</summary>
    public IReadOnlyList<JobWorker> Queues { get; }

    /// <summary>LISTEN and each queue's held connection.</summary>
    public int HeldConnections => 1 + Queues.Count;

    /// <param name="fixture">The server.</param>
    /// <param name="name">Prefix of the host's application name and queues.</param>
    /// <param name="workers">Worker options on top of the defaults.</param>
    /// <param name="driver">Driver options on top of the host's (which keep the held connections for good).</param>
    /// <param name="logs">A logger provider of the test's, if any.</param>
    /// <param name="ran">Called with each job the host runs (a <see cref="ValueJob"/>), if given.</param>
    public static async Task<IdleManyQueueHost> StartAsync(PostgresFixture fixture, string name, Action<JobWorkerOptions>? workers = null,
        Action<PostgresJobDriverOptions>? driver = null, ILoggerProvider? logs = null, Action<ValueJob>? ran = null)
    {
        var app = name + "_" + Guid.NewGuid().ToString("N")[..8];
        var dataSource = fixture.CreateDataSource(b =>
        {
            b.ApplicationName = app; // counted in pg_stat_activity
            b.MaxPoolSize = 50;
            b.ConnectionIdleLifetime = 2; // the pool closes what a burst opened within seconds (300 s by default)...
            b.ConnectionPruningInterval = 1; // ...so each burst opens its connections again
        });
        var prefix = name + "_" + Guid.NewGuid().ToString("N")[..8];
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder();
        if (logs is not null)
        {
            builder.Logging.SetMinimumLevel(LogLevel.Debug).AddProvider(logs);
        }

        builder.Services.AddJobs(jobs =>
        {
            jobs.UsePostgres(dataSource, o =>
            {
                o.Schema = "jobs_test";
                o.QueueName = prefix;
                o.HeldConnectionIdleTimeout = Timeout.InfiniteTimeSpan; // the held connections stay: polls never rent from the pool
                driver?.Invoke(o);
            });
            for (var i = 0; i < AddedQueues; i++)
            {
                jobs.AddQueue(prefix + "_" + i, q => q.Concurrency = 1);
            }

            jobs.AddJob<ValueJob>((job, _, _) =>
            {
                ran?.Invoke(job);
                return Task.CompletedTask;
            }).AddWorkers(o => workers?.Invoke(o));
        });
        var host = builder.Build();
        await host.StartAsync().WaitAsync(TimeSpan.FromSeconds(60));
        var started = new IdleManyQueueHost(host, dataSource, fixture.CreateDataSource(), app);
        Assert.Equal(AddedQueues + 1, started.Queues.Count);
        return started;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Host.StopAsync().WaitAsync(TimeSpan.FromSeconds(60));
        }
        finally
        {
            Host.Dispose();
            await Observer.DisposeAsync();
            await DataSource.DisposeAsync();
        }
    }
}
