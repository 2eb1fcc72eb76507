using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;

namespace Jobs.Sdk;

/// <summary>How one job type runs in this process: its name, handler, registration retry strategy and timeout.</summary>
/// <remarks>
/// The untyped base is what the registry stores; <see cref="JobDefinition{TJob}"/> hands itself to a
/// <see cref="JobExecutor"/> (<see cref="RunAsync"/>), so the decoded job stays typed from payload to handler.
/// </remarks>
internal abstract class JobDefinition
{
    protected JobDefinition(string name, IJobRetryStrategy? retryStrategy, TimeSpan? timeout)
    {
        if (timeout is { } t && (t <= TimeSpan.Zero || t > JobTimeLimits.MaxTimer))
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), t,
                $"The timeout of job '{name}' must be greater than zero and at most {JobAttribute.MaxTimeoutSeconds} seconds (the longest a CancellationTokenSource accepts).");
        }

        Name = name;
        RetryStrategy = retryStrategy;
        Timeout = timeout;
    }

    public string Name { get; }

    /// <summary>Registration-level strategy; <see langword="null"/> means the queue default (see <see cref="JobRetryPolicy"/>).</summary>
    public IJobRetryStrategy? RetryStrategy { get; }

    public TimeSpan? Timeout { get; }

    public abstract Type JobType { get; }

    /// <summary>The job type's default queue (<see cref="JobAttribute.Queue"/>); <see langword="null"/>: the driver's.</summary>
    public abstract string? Queue { get; }

    /// <summary>Runs one claimed attempt of this job type through <paramref name="executor"/> (typed dispatch).</summary>
    public abstract Task<JobRunResult> RunAsync(JobExecutor executor, JobRun run);
}

/// <summary>A job type's definition with a typed handler; built with generics only, no reflection.</summary>
internal sealed class JobDefinition<TJob> : JobDefinition where TJob : IJob<TJob>
{
    private readonly Func<IServiceProvider, TJob, JobContext, CancellationToken, Task> _handler;

    /// <param name="handler">The handler.</param>
    /// <param name="retryStrategy">The registration's strategy, if any.</param>
    /// <param name="timeout">The registration's timeout; <see langword="null"/> uses <see cref="IJob{TSelf}.Timeout"/>.</param>
    /// <param name="name">The stored job name when it differs from <see cref="IJob{TSelf}.JobName"/> (per-queue built-in jobs).</param>
    public JobDefinition(Func<IServiceProvider, TJob, JobContext, CancellationToken, Task> handler, IJobRetryStrategy? retryStrategy, TimeSpan? timeout,
        string? name = null)
        : base(name ?? TJob.JobName, retryStrategy, timeout ?? TJob.Timeout)
    {
        _handler = handler;
    }

    public override Type JobType => typeof(TJob);

    public override string? Queue => TJob.Queue;

    public TJob Decode(ReadOnlyMemory<byte> payload)
    {
        try
        {
            return TJob.Deserialize(payload.Span)!;
        }
        catch (JobDecodeException)
        {
            throw;
        }
        catch (Exception ex) when (ex is JsonException or FormatException or InvalidOperationException or OverflowException or ArgumentException)
        {
            throw new JobDecodeException(Name, null, (ex as JsonException)?.Path, ex.Message, ex);
        }
        catch (Exception ex)
        {
            // Anything else the payload's types throw while they are built (a constructor's own validation, a custom
            // converter): the job cannot run on this version either, and its error names what threw.
            throw new JobDecodeException(Name, null, null, JobExecutor.Describe(ex), ex);
        }
    }

    public Task InvokeAsync(IServiceProvider services, TJob job, JobContext context, CancellationToken cancellationToken)
        => _handler(services, job, context, cancellationToken);

    public override Task<JobRunResult> RunAsync(JobExecutor executor, JobRun run) => executor.ExecuteAsync(this, run);

    public static JobDefinition<TJob> ForHandler<THandler>(IJobRetryStrategy? retryStrategy, TimeSpan? timeout)
        where THandler : IJobHandler<TJob>
        => new((sp, job, ctx, ct) => sp.GetRequiredService<THandler>().HandleAsync(job, ctx, ct), retryStrategy, timeout);
}
