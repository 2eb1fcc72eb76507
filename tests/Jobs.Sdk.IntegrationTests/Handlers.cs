using System.Collections.Concurrent;
using Jobs.Sdk;

namespace Jobs.Sdk.IntegrationTests;

/// <summary>Collects the jobs handlers received, one awaitable slot per key.</summary>
public sealed class Recorder
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource<object>> _slots = new(StringComparer.Ordinal);

    /// <summary>Records a received job.</summary>
    public void Record(string key, object job) => Slot(key).TrySetResult(job);

    /// <summary>Waits for the job recorded under <paramref name="key"/>.</summary>
    public async Task<T> WaitAsync<T>(string key) => (T)await Slot(key).Task.WaitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);

    private TaskCompletionSource<object> Slot(string key)
        => _slots.GetOrAdd(key, _ => new TaskCompletionSource<object>(TaskCreationOptions.RunContinuationsAsynchronously));
}

/// <summary>Handles <see cref="ShipOrderJob"/>.</summary>
public sealed class ShipOrderHandler(Recorder recorder) : IJobHandler<ShipOrderJob>
{
    /// <inheritdoc />
    public Task HandleAsync(ShipOrderJob job, JobContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        recorder.Record("ship-order:" + job.Customer, job);
        return Task.CompletedTask;
    }
}

/// <summary>Handles <see cref="ReindexJob"/>.</summary>
public sealed class ReindexHandler(Recorder recorder) : IJobHandler<ReindexJob>
{
    /// <inheritdoc />
    public Task HandleAsync(ReindexJob job, JobContext context, CancellationToken cancellationToken)
    {
        recorder.Record("reindex:" + job.Shard, job);
        return Task.CompletedTask;
    }
}

/// <summary>Handles <see cref="ReportJob"/> (replaced by a delegate in one test).</summary>
public sealed class ReportHandler(Recorder recorder) : IJobHandler<ReportJob>
{
    /// <inheritdoc />
    public Task HandleAsync(ReportJob job, JobContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        recorder.Record("report:" + job.Title, job);
        return Task.CompletedTask;
    }
}

/// <summary>Handles <see cref="VersionedJob"/>.</summary>
public sealed class VersionedHandler(Recorder recorder) : IJobHandler<VersionedJob>
{
    /// <inheritdoc />
    public Task HandleAsync(VersionedJob job, JobContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        recorder.Record("versioned:" + job.Build, job);
        return Task.CompletedTask;
    }
}
