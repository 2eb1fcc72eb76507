using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>A job with a string message.</summary>
public sealed record MessageJob(int Id, string Message) : IJob<MessageJob>
{
    public static string JobName => "test.message";

    public static void Serialize(Utf8JsonWriter writer, MessageJob job)
    {
        writer.WriteStartObject();
        writer.WriteNumber("id", job.Id);
        writer.WriteString("message", job.Message);
        writer.WriteEndObject();
    }

    public static MessageJob Deserialize(ReadOnlySpan<byte> utf8Json)
    {
        var reader = new Utf8JsonReader(utf8Json);
        int id = 0;
        string message = "";
        while (reader.Read())
        {
            if (reader.TokenType != JsonTokenType.PropertyName)
            {
                continue;
            }

            if (reader.ValueTextEquals("id"))
            {
                reader.Read();
                id = reader.GetInt32();
            }
            else if (reader.ValueTextEquals("message"))
            {
                reader.Read();
                message = reader.GetString()!;
            }
        }

        return new MessageJob(id, message);
    }
}

/// <summary>A queue + optional worker on the shared test database.</summary>
public sealed class TestQueue : IAsyncDisposable
{
    private readonly ServiceProvider _provider;
    private bool _started;

    private TestQueue(ServiceProvider provider, NpgsqlDataSource dataSource)
    {
        _provider = provider;
        DataSource = dataSource;
        Queue = provider.GetRequiredService<JobQueue>();
        Driver = provider.GetRequiredService<PostgresJobDriver>();
    }

    public JobQueue Queue { get; }
    public PostgresJobDriver Driver { get; }
    public NpgsqlDataSource DataSource { get; }
    public IServiceProvider Services => _provider;
    public JobWorker Worker => _provider.GetRequiredService<JobWorker>();
    internal JobsRuntime Runtime => _provider.GetRequiredService<JobsRuntime>();

    public static async Task<TestQueue> CreateAsync(PostgresFixture fixture, Action<JobsBuilder> jobs, Action<PostgresJobDriverOptions>? driver = null,
        Action<JobWorkerOptions>? worker = null, string? queueName = null, [CallerMemberName] string test = "", NpgsqlDataSource? dataSource = null)
    {
        dataSource ??= fixture.CreateDataSource();
        var services = new ServiceCollection();
        services.AddJobs(b =>
        {
            b.UsePostgres(dataSource, o =>
            {
                o.Schema = "jobs_test";
                o.QueueName = queueName ?? test + "_" + Guid.NewGuid().ToString("N")[..6];
                o.PollInterval = TimeSpan.FromMilliseconds(100);
                driver?.Invoke(o);
            });
            b.ConfigureQueue(q => q.DefaultRetryStrategy = JobRetryStrategy.ExponentialJitter(maxAttempts: 4, maxBackoff: TimeSpan.FromMilliseconds(10)));
            jobs(b);
            b.AddWorkers(o =>
            {
                o.Concurrency = 4;
                o.ShutdownTimeout = TimeSpan.FromSeconds(5);
                worker?.Invoke(o);
            });
        });
        var provider = services.BuildServiceProvider();
        var queue = new TestQueue(provider, dataSource);
        await queue.Driver.WaitUntilReadyAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60));
        return queue;
    }

    /// <summary>
    /// Starts the worker as a Generic Host does: <c>UsePostgres</c>'s start-up check runs first (it reserves each served
    /// queue's claim-and-renewal connection), so the tests take the claim path hosted workers take.
    /// </summary>
    public async Task StartAsync()
    {
        _started = true;
        foreach (var check in _provider.GetServices<Microsoft.Extensions.Hosting.IHostedService>().OfType<PostgresWorkerPoolCheck>())
        {
            await check.StartAsync(CancellationToken.None);
        }

        await Worker.StartAsync(CancellationToken.None);
    }

    /// <summary>
    /// Starts the driver's listener (its first idle wait does; this one returns at once) and waits until the server ran
    /// its LISTEN on this queue's channel (pg_stat_activity: a session idle after it), so a NOTIFY from now on reaches it.
    /// Fails after 30 s.
    /// </summary>
    public async Task ListeningAsync()
    {
        await Driver.WaitForWorkAsync(new CancellationToken(canceled: true));
        var listen = "LISTEN \"" + PostgresNotifier.ChannelName(Driver.Schema, Driver.QueueName).Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
        await TestExtensions.EventuallyAsync(
            async () => await DataSource.ScalarAsync($"SELECT count(*) FROM pg_stat_activity WHERE state = 'idle' AND query = '{listen.Replace("'", "''", StringComparison.Ordinal)}'") > 0,
            30, $"the listener's {listen} (queue '{Driver.QueueName}')");
    }

    public async Task StopAsync()
    {
        if (_started)
        {
            _started = false;
            await Worker.StopAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60));
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        await _provider.DisposeAsync();
        await DataSource.DisposeAsync();
    }
}

/// <summary>Collects values from handlers and lets tests await a count.</summary>
public sealed class Recorder<T>
{
    private readonly ConcurrentQueue<T> _items = new();
    private readonly object _gate = new();
    private readonly List<(Func<int, bool> Condition, TaskCompletionSource Tcs)> _waiters = [];

    public IReadOnlyList<T> Items => _items.ToArray();

    public int Count => _items.Count;

    public void Add(T item)
    {
        _items.Enqueue(item);
        lock (_gate)
        {
            foreach (var w in _waiters.ToArray())
            {
                if (w.Condition(_items.Count))
                {
                    w.Tcs.TrySetResult();
                    _waiters.Remove(w);
                }
            }
        }
    }

    public Task WaitForCountAsync(int count, int seconds = 30)
    {
        lock (_gate)
        {
            if (_items.Count >= count)
            {
                return Task.CompletedTask;
            }

            var tcs = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((n => n >= count, tcs));
            return tcs.Task.WaitAsync(TimeSpan.FromSeconds(seconds));
        }
    }
}

public static class TestExtensions
{
    /// <summary>Polls a condition on the database (for state visible only there) with a timeout.</summary>
    public static Task EventuallyAsync(Func<Task<bool>> condition, int seconds = 30, string? what = null)
        => EventuallyAsync(condition, seconds, () => what);

    /// <summary>
    /// <see cref="EventuallyAsync(Func{Task{bool}}, int, string?)"/>, saying what was awaited as <paramref name="what"/> says it
    /// when the time is up (the state the last poll saw).
    /// </summary>
    public static async Task EventuallyAsync(Func<Task<bool>> condition, int seconds, Func<string?> what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Condition not met within {seconds}s: {what()}");
            }

            await Task.Delay(50);
        }
    }

    public static async Task<long> ScalarAsync(this NpgsqlDataSource dataSource, string sql)
    {
        await using var command = dataSource.CreateCommand(sql);
        return Convert.ToInt64(await command.ExecuteScalarAsync());
    }

    public static async Task ExecAsync(this NpgsqlDataSource dataSource, string sql)
    {
        await using var command = dataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }
}
