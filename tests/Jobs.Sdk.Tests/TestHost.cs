using System.Collections.Concurrent;
using Jobs.Sdk.Drivers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Jobs.Sdk.Tests;

/// <summary>A service provider with the in-memory driver, a recording sink and an optional worker.</summary>
internal sealed class TestHost : IAsyncDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private TestHost(ServiceProvider services) => Services = services;

    public ServiceProvider Services { get; }
    public JobQueue Queue => Services.GetRequiredService<JobQueue>();
    public JobsRuntime Runtime => Services.GetRequiredService<JobsRuntime>();
    public JobWorker Worker => Services.GetRequiredService<JobWorker>();
    public InMemoryJobDriverView Driver => new((Jobs.Sdk.InMemory.InMemoryJobDriver)Services.GetRequiredService<IJobDriver>());

    public static TestHost Create(Action<JobsBuilder> configure, TimeProvider? time = null, Action<IServiceCollection>? services = null,
        Action<Jobs.Sdk.InMemory.InMemoryJobDriverOptions>? driver = null)
    {
        var collection = new ServiceCollection();
        if (time is not null)
        {
            collection.AddSingleton(time);
        }

        services?.Invoke(collection);
        collection.AddJobs(jobs =>
        {
            jobs.UseInMemory(driver);
            configure(jobs);
        });
        return new TestHost(collection.BuildServiceProvider(validateScopes: true));
    }

    public async Task<TestHost> StartAsync()
    {
        await Worker.StartAsync(CancellationToken.None);
        return this;
    }

    public async Task<JobInfo> WaitForStateAsync(JobId id, JobState state)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (true)
        {
            var info = await Queue.GetJobAsync(id);
            if (info?.State == state)
            {
                return info;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Job {id} did not reach {state}; it is {info?.State.ToString() ?? "gone"}.");
            }

            await Task.Delay(10);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Services.GetService<JobsBuilder>()?.Services.Any(d => d.ServiceType == typeof(JobWorker)) == true)
        {
            await Worker.StopAsync(CancellationToken.None);
        }

        await Services.DisposeAsync();
    }
}

internal readonly record struct InMemoryJobDriverView(Jobs.Sdk.InMemory.InMemoryJobDriver Driver);

/// <summary>Thread-safe record of handler runs.</summary>
internal sealed class RunLog
{
    private readonly ConcurrentQueue<(int Value, int Attempt)> _runs = new();
    private readonly ConcurrentDictionary<int, TaskCompletionSource> _waiters = new();

    public IReadOnlyList<int> Values => _runs.Select(r => r.Value).ToArray();
    public IReadOnlyList<(int Value, int Attempt)> Runs => _runs.ToArray();

    public void Add(int value, int attempt)
    {
        _runs.Enqueue((value, attempt));
        Waiter(value).TrySetResult();
    }

    public Task WaitForAsync(int value) => Waiter(value).Task.WaitAsync(TestHost.Timeout);

    private TaskCompletionSource Waiter(int value) => _waiters.GetOrAdd(value, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
}

internal static class FakeTime
{
    public static FakeTimeProvider Create() => new(new DateTimeOffset(2026, 1, 5, 12, 0, 0, TimeSpan.Zero));
}
