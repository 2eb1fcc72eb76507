using System.Collections.Concurrent;
using System.Data.Common;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text.Json;
using Jobs.Sdk.Drivers;
using Jobs.Sdk.InMemory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Jobs.Sdk.Tests.Observability;

/// <summary>
/// Activity and meter listeners are process-wide: the observability tests run alone (not in parallel with any other
/// test) and every assertion also filters by the test's own queue name.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ObservabilityCollection
{
    public const string Name = "Observability";
}

/// <summary>A hand-written job (what the generator emits for a [Job] type).</summary>
public sealed record ObsJob(int Value) : IJob<ObsJob>
{
    public static string JobName => "obs.job";

    public static void Serialize(Utf8JsonWriter writer, ObsJob job) => IntMemberJson.Write(writer, "value", job.Value);

    public static ObsJob Deserialize(ReadOnlySpan<byte> utf8Json) => new(IntMemberJson.Read(utf8Json, JobName, "value", nameof(Value)));
}

/// <summary>Writes a string where <see cref="ObsJob"/> expects a number, under <see cref="ObsJob"/>'s name.</summary>
public sealed record ObsBadPayloadJob(string Text) : IJob<ObsBadPayloadJob>
{
    public static string JobName => ObsJob.JobName;

    public static void Serialize(Utf8JsonWriter writer, ObsBadPayloadJob job)
    {
        writer.WriteStartObject();
        writer.WriteString("value", job.Text);
        writer.WriteEndObject();
    }

    public static ObsBadPayloadJob Deserialize(ReadOnlySpan<byte> utf8Json) => throw new NotSupportedException();
}

/// <summary>A job no handler is registered for.</summary>
public sealed record ObsOrphanJob(int Value) : IJob<ObsOrphanJob>
{
    public static string JobName => "obs.orphan";
    public static void Serialize(Utf8JsonWriter writer, ObsOrphanJob job) => IntMemberJson.Write(writer, "value", job.Value);
    public static ObsOrphanJob Deserialize(ReadOnlySpan<byte> utf8Json) => new(IntMemberJson.Read(utf8Json, JobName, "value", nameof(Value)));
}

/// <summary>A second job type (for failure and cancellation counters).</summary>
public sealed record ObsOtherJob(int Value) : IJob<ObsOtherJob>
{
    public static string JobName => "obs.other";
    public static void Serialize(Utf8JsonWriter writer, ObsOtherJob job) => IntMemberJson.Write(writer, "value", job.Value);
    public static ObsOtherJob Deserialize(ReadOnlySpan<byte> utf8Json) => new(IntMemberJson.Read(utf8Json, JobName, "value", nameof(Value)));
}

internal static class Obs
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    public static readonly IJobRetryStrategy FastRetry = JobRetryStrategy.ExponentialJitter(maxAttempts: 3, maxBackoff: TimeSpan.FromMilliseconds(1));

    public static string NewQueueName(string prefix) => $"{prefix}-{Guid.NewGuid():N}";
}

/// <summary>A container with the in-memory driver (wrapped in a <see cref="TestDriver"/>) for one queue.</summary>
internal sealed class ObsHost : IAsyncDisposable
{
    private ObsHost(ServiceProvider services) => Services = services;

    public ServiceProvider Services { get; }
    public JobQueue Queue => Services.GetRequiredService<JobQueue>();
    public JobsRuntime Runtime => Services.GetRequiredService<JobsRuntime>();
    public JobWorker Worker => Services.GetRequiredService<JobWorker>();
    public TestDriver Driver => (TestDriver)Services.GetRequiredService<IJobDriver>();

    public static ObsHost Create(string queueName, Action<JobsBuilder> configure, Action<TestDriver>? driver = null,
        TimeProvider? time = null, Action<IServiceCollection>? services = null, Action<InMemoryJobDriverOptions>? inMemory = null)
    {
        var collection = new ServiceCollection();
        if (time is not null)
        {
            collection.AddSingleton(time);
        }

        services?.Invoke(collection);
        collection.AddJobs(jobs =>
        {
            jobs.UseDriver(sp =>
            {
                var options = new InMemoryJobDriverOptions { QueueName = queueName };
                inMemory?.Invoke(options);
                var d = new TestDriver(new InMemoryJobDriver(options, sp.GetService<TimeProvider>() ?? TimeProvider.System));
                driver?.Invoke(d);
                return d;
            });
            configure(jobs);
        });
        return new ObsHost(collection.BuildServiceProvider(validateScopes: true));
    }

    public async Task<ObsHost> StartAsync()
    {
        await Worker.StartAsync(CancellationToken.None);
        return this;
    }

    public async ValueTask DisposeAsync()
    {
        if (Services.GetService<JobsBuilder>()?.WorkersAdded == true && Worker.IsStarted && !Worker.Completion.IsCompleted)
        {
            await Worker.StopAsync(CancellationToken.None).WaitAsync(Obs.Timeout);
        }

        await Services.DisposeAsync();
    }
}

/// <summary>A test double around the in-memory driver: hooks to fail or block calls and to observe the worker's loop.</summary>
internal sealed class TestDriver(InMemoryJobDriver inner) : IJobDriver
{
    public InMemoryJobDriver Inner { get; } = inner;

    public Func<CancellationToken, Task>? OnWaitUntilReady { get; set; }
    public Func<CancellationToken, Task>? OnGetCounts { get; set; }
    public TaskCompletionSource WaitingForWork { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public string QueueName => Inner.QueueName;

    public event Action<JobLease>? RunningJobCancelled
    {
        add => Inner.RunningJobCancelled += value;
        remove => Inner.RunningJobCancelled -= value;
    }

    public Task WaitUntilReadyAsync(CancellationToken cancellationToken)
        => OnWaitUntilReady?.Invoke(cancellationToken) ?? Inner.WaitUntilReadyAsync(cancellationToken);

    public Task PushAsync(IReadOnlyList<JobPushRecord> jobs, DbTransaction? transaction, CancellationToken cancellationToken)
        => Inner.PushAsync(jobs, transaction, cancellationToken);

    public Task<IReadOnlyList<ClaimedJob>> ClaimAsync(JobClaimRequest request, CancellationToken cancellationToken)
        => Inner.ClaimAsync(request, cancellationToken);

    public Task WaitForWorkAsync(CancellationToken cancellationToken)
    {
        WaitingForWork.TrySetResult();
        return Inner.WaitForWorkAsync(cancellationToken);
    }

    public Task CompleteAsync(string workerId, IReadOnlyList<JobOutcome> outcomes, CancellationToken cancellationToken)
        => Inner.CompleteAsync(workerId, outcomes, cancellationToken);

    public Task<LeaseRenewalResult> RenewLeasesAsync(string workerId, IReadOnlyList<JobLease> running, TimeSpan leaseDuration, CancellationToken cancellationToken)
        => Inner.RenewLeasesAsync(workerId, running, leaseDuration, cancellationToken);

    public Task<int> RescueExpiredLeasesAsync(CancellationToken cancellationToken) => Inner.RescueExpiredLeasesAsync(cancellationToken);

    public Task<bool> CancelAsync(JobId id, CancellationToken cancellationToken) => Inner.CancelAsync(id, cancellationToken);

    public Task<bool> PauseAsync(JobId id, CancellationToken cancellationToken) => Inner.PauseAsync(id, cancellationToken);

    public Task<bool> ResumeAsync(JobId id, CancellationToken cancellationToken) => Inner.ResumeAsync(id, cancellationToken);

    public Task<JobInfo?> GetJobAsync(JobId id, CancellationToken cancellationToken) => Inner.GetJobAsync(id, cancellationToken);

    public Task<IReadOnlyList<JobNameCounts>> GetCountsByNameAsync(CancellationToken cancellationToken) => Inner.GetCountsByNameAsync(cancellationToken);

    public Task<IReadOnlyList<WaitingJobName>> GetWaitingNamesAsync(TimeSpan dueFor, CancellationToken cancellationToken)
        => Inner.GetWaitingNamesAsync(dueFor, cancellationToken);

    public async Task<JobCounts> GetCountsAsync(CancellationToken cancellationToken)
    {
        if (OnGetCounts is { } hook)
        {
            await hook(cancellationToken).ConfigureAwait(false); // a held hook's release ends this call before it returns
        }

        return await Inner.GetCountsAsync(cancellationToken);
    }

    public Task CleanupAsync(CleanupOptions options, CancellationToken cancellationToken) => Inner.CleanupAsync(options, cancellationToken);

    public ValueTask DisposeAsync() => Inner.DisposeAsync();
}
