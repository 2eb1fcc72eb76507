using System.Collections.Concurrent;
using System.Text;
using Jobs.Sdk.Drivers;
using Jobs.Sdk.InMemory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Jobs.Sdk.Tests.Execution;

/// <summary>A <see cref="JobExecutor"/> over hand-made claims: no worker, no loops, no store round trips.</summary>
internal sealed class ExecutorHarness : IAsyncDisposable
{
    private readonly ServiceProvider _services;

    public ExecutorHarness(IEnumerable<JobDefinition> definitions, IEnumerable<IJobMiddleware>? middleware = null, JobQueueOptions? options = null)
    {
        Time = FakeTime.Create();
        _services = new ServiceCollection().BuildServiceProvider();
        Runtime = new JobsRuntime(new InMemoryJobDriver(timeProvider: Time), new JobRegistry(definitions), options ?? new JobQueueOptions(), Time,
            middleware ?? []);
        Executor = new JobExecutor(Runtime, _services.GetRequiredService<IServiceScopeFactory>(), "test-worker", NullLogger.Instance);
    }

    public FakeTimeProvider Time { get; }

    public JobsRuntime Runtime { get; }

    public JobExecutor Executor { get; }

    public static ClaimedJob Claim<TJob>(TJob job, int attempt = 1, int maxAttempts = 3) where TJob : IJob<TJob>
        => Claim(TJob.JobName, JobSerializer.Serialize(job), attempt, maxAttempts);

    public static ClaimedJob Claim(string name, byte[] payload, int attempt = 1, int maxAttempts = 3) => new()
    {
        Id = JobId.New(),
        Name = name,
        Payload = payload,
        Attempt = attempt,
        MaxAttempts = maxAttempts,
        QueuedAt = DateTimeOffset.UnixEpoch,
        RunAt = DateTimeOffset.UnixEpoch,
    };

    public static byte[] Utf8(string json) => Encoding.UTF8.GetBytes(json);

    public async Task<JobRunResult> RunAsync(ClaimedJob job)
    {
        using var run = new JobRun(job);
        return await Executor.ExecuteAsync(run);
    }

    public ValueTask DisposeAsync() => _services.DisposeAsync();
}

/// <summary>Records every hook it sees and, when told to, throws from the observer hooks.</summary>
internal sealed class ProbeMiddleware(bool throwFromObservers = false) : IJobMiddleware
{
    public ConcurrentQueue<string> Events { get; } = new();

    public ValueTask OnPushAsync(JobPushContext context, CancellationToken cancellationToken)
    {
        Events.Enqueue($"push:{context.Attempt}");
        return Observe();
    }

    public ValueTask OnPopAsync(JobPopContext context, CancellationToken cancellationToken)
    {
        Events.Enqueue(context.Error is null ? "pop" : "pop:error");
        return Observe();
    }

    public async Task HandleAsync(JobExecutionContext context, Func<Task> next, CancellationToken cancellationToken)
    {
        Events.Enqueue("handle");
        await next();
    }

    public ValueTask OnCompletedAsync(JobCompletedContext context, CancellationToken cancellationToken)
    {
        Events.Enqueue($"completed:{context.Outcome}");
        return Observe();
    }

    private ValueTask Observe() => throwFromObservers ? throw new InvalidOperationException("observer failed") : default;
}
