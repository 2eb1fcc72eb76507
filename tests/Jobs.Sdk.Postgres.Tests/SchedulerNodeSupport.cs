using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Npgsql;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// One scheduler "process" on PostgreSQL: its own service provider (<c>UsePostgres</c> + <c>AddSchedule</c>), data source and
/// <see cref="FakeTimeProvider"/>; no workers.
/// </summary>
internal sealed class PostgresSchedulerNode : IAsyncDisposable
{
    private readonly ServiceProvider _provider;
    private readonly NpgsqlDataSource _dataSource;
    private bool _disposed;

    private PostgresSchedulerNode(ServiceProvider provider, NpgsqlDataSource dataSource, FakeTimeProvider time)
    {
        _provider = provider;
        _dataSource = dataSource;
        Time = time;
        Scheduler = provider.GetRequiredService<JobScheduler>();
        Keys = provider.GetRequiredService<JobSchedule>().Entries.Select(e => e.Key).ToArray();
        Probe.Attach(Scheduler);
    }

    public FakeTimeProvider Time { get; }
    public JobScheduler Scheduler { get; }
    public SchedulerProbe Probe { get; } = new();
    public IReadOnlyList<string> Keys { get; }

    /// <param name="dataSource">The node's data source (disposed with it), e.g. one through a proxy; default: the fixture's server.</param>
    public static PostgresSchedulerNode Create(PostgresFixture fixture, string schema, string queueName, DateTimeOffset start, Action<JobSchedule> schedule,
        NpgsqlDataSource? dataSource = null)
    {
        var time = new FakeTimeProvider(start);
        dataSource ??= fixture.CreateDataSource();
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(time);
        services.AddJobs(jobs => jobs
            .UsePostgres(dataSource, o =>
            {
                o.Schema = schema;
                o.QueueName = queueName;
            })
            .AddSchedule(schedule));
        return new PostgresSchedulerNode(services.BuildServiceProvider(), dataSource, time);
    }

    public Task StartAsync() => Scheduler.StartAsync(CancellationToken.None);

    /// <summary>Waits until every entry is parked after this node's current fake time.</summary>
    public Task SettledAsync() => Probe.SettledAsync(Keys, Time.GetUtcNow());

    /// <summary>Stops and disposes the scheduler and its provider, as if the process died.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        await Scheduler.StopAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
        await _provider.DisposeAsync();
        await _dataSource.DisposeAsync();
    }
}
