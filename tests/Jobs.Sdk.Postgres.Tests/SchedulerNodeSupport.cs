using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Npgsql;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// Collects a scheduler's test-hook events and lets a test await a condition over them (no sleeps). A trimmed copy of the
/// probe in <c>tests/Jobs.Sdk.Tests/Scheduling/SchedulingTestSupport.cs</c>.
/// </summary>
internal sealed class SchedulerProbe
{
    private readonly object _gate = new();
    private readonly List<(Func<bool> Condition, TaskCompletionSource Done)> _waiters = [];
    private readonly Dictionary<string, DateTimeOffset> _waitingFor = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateTimeOffset> _wakeAt = new(StringComparer.Ordinal);
    private readonly List<(string Key, DateTimeOffset Fire, bool Pushed)> _handled = [];
    private readonly List<(string Key, TimeSpan Delay)> _retries = [];

    public void Attach(JobScheduler scheduler)
    {
        scheduler.Waiting += (key, next, wakeAt) => Update(() =>
        {
            _waitingFor[key] = next;
            _wakeAt[key] = wakeAt;
        });
        scheduler.FireHandled += (key, fire, pushed) => Update(() => _handled.Add((key, fire, pushed)));
        scheduler.RetryWaiting += (key, delay) => Update(() => _retries.Add((key, delay)));
    }

    /// <summary>A snapshot of the fires this scheduler handled (pushed or found already pushed).</summary>
    public IReadOnlyList<(string Key, DateTimeOffset Fire, bool Pushed)> Handled { get { lock (_gate) { return _handled.ToArray(); } } }

    /// <summary>How many store errors this scheduler retried (there should be none).</summary>
    public int RetryCount { get { lock (_gate) { return _retries.Count; } } }

    /// <summary>
    /// Completes once every entry in <paramref name="keys"/> is parked on a timer that wakes after <paramref name="now"/>:
    /// the scheduler has handled everything due at <paramref name="now"/> and the fake clock may be advanced again.
    /// </summary>
    public Task SettledAsync(IEnumerable<string> keys, DateTimeOffset now)
    {
        var list = keys.ToArray();
        return WhenAsync(() => list.All(k => _wakeAt.TryGetValue(k, out var w) && w > now), $"entries parked after {now:O}");
    }

    private Task WhenAsync(Func<bool> condition, string what)
    {
        TaskCompletionSource done;
        lock (_gate)
        {
            if (condition())
            {
                return Task.CompletedTask;
            }

            done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((condition, done));
        }

        return done.Task.WaitAsync(TimeSpan.FromSeconds(30)).ContinueWith(
            t => t.IsFaulted ? throw new TimeoutException($"Timed out waiting for {what}; last waiting: {Describe()}") : t,
            TaskScheduler.Default).Unwrap();
    }

    private string Describe()
    {
        lock (_gate)
        {
            return string.Join(", ", _waitingFor.Select(kv => $"{kv.Key} -> {kv.Value:O} (wakes {_wakeAt[kv.Key]:O})"));
        }
    }

    private void Update(Action change)
    {
        List<TaskCompletionSource>? ready = null;
        lock (_gate)
        {
            change();
            for (var i = _waiters.Count - 1; i >= 0; i--)
            {
                if (_waiters[i].Condition())
                {
                    (ready ??= []).Add(_waiters[i].Done);
                    _waiters.RemoveAt(i);
                }
            }
        }

        ready?.ForEach(t => t.TrySetResult());
    }
}

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

    public static PostgresSchedulerNode Create(PostgresFixture fixture, string schema, string queueName, DateTimeOffset start, Action<JobSchedule> schedule)
    {
        var time = new FakeTimeProvider(start);
        var dataSource = fixture.CreateDataSource();
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
