using Jobs.Sdk;

namespace Jobs.Sdk.Samples.AotWorker.Jobs;

/// <summary>A no-op job, for load and for measuring the worker's own footprint.</summary>
/// <param name="Sequence">A number.</param>
[Job("ping")]
public partial record Ping(int Sequence);

/// <summary>Handles <see cref="Ping"/>.</summary>
public sealed class PingHandler(WorkerStats stats) : IJobHandler<Ping>
{
    /// <inheritdoc />
    public Task HandleAsync(Ping job, JobContext context, CancellationToken cancellationToken)
    {
        stats.Completed(job: "ping");
        return Task.CompletedTask;
    }
}
