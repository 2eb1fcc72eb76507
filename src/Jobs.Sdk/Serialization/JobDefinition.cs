using System.Buffers;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;

namespace Jobs.Sdk;

/// <summary>How one job type runs in this process: decode, handler, retry strategy, timeout.</summary>
internal abstract class JobDefinition
{
    protected JobDefinition(string name, IJobRetryStrategy? retryStrategy, TimeSpan? timeout)
    {
        if (timeout is { } t && (t <= TimeSpan.Zero || t > TimeSpan.FromSeconds(JobAttribute.MaxTimeoutSeconds)))
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), t,
                $"The timeout of job '{name}' must be greater than zero and at most {JobAttribute.MaxTimeoutSeconds} seconds (the longest a CancellationTokenSource accepts).");
        }

        Name = name;
        RetryStrategy = retryStrategy;
        Timeout = timeout;
    }

    public string Name { get; }

    /// <summary>Registration-level strategy; <see langword="null"/> means derived from the type or the queue default.</summary>
    public IJobRetryStrategy? RetryStrategy { get; }

    public TimeSpan? Timeout { get; }

    public abstract Type JobType { get; }

    public abstract object Decode(ReadOnlyMemory<byte> payload);

    public abstract Task InvokeAsync(IServiceProvider services, object job, JobContext context, CancellationToken cancellationToken);
}

/// <summary>A job type's definition with a typed handler; built with generics only, no reflection.</summary>
internal sealed class JobDefinition<TJob> : JobDefinition where TJob : IJob<TJob>
{
    private readonly Func<IServiceProvider, TJob, JobContext, CancellationToken, Task> _handler;

    public JobDefinition(Func<IServiceProvider, TJob, JobContext, CancellationToken, Task> handler, IJobRetryStrategy? retryStrategy, TimeSpan? timeout)
        : base(TJob.JobName, retryStrategy, timeout ?? TJob.Timeout)
    {
        _handler = handler;
    }

    public override Type JobType => typeof(TJob);

    public override object Decode(ReadOnlyMemory<byte> payload)
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
            throw new JobDecodeException(Name, null, null, ex.Message, ex);
        }
    }

    public override Task InvokeAsync(IServiceProvider services, object job, JobContext context, CancellationToken cancellationToken)
        => _handler(services, (TJob)job, context, cancellationToken);

    public static JobDefinition<TJob> ForHandler<THandler>(IJobRetryStrategy? retryStrategy, TimeSpan? timeout)
        where THandler : IJobHandler<TJob>
        => new((sp, job, ctx, ct) => sp.GetRequiredService<THandler>().HandleAsync(job, ctx, ct), retryStrategy, timeout);
}

/// <summary>Serializes job objects to UTF-8 JSON through their static <see cref="IJob{TSelf}"/> members.</summary>
internal static class JobSerializer
{
    [ThreadStatic] private static ArrayBufferWriter<byte>? t_buffer;
    [ThreadStatic] private static Utf8JsonWriter? t_writer;

    public static byte[] Serialize<TJob>(TJob job) where TJob : IJob<TJob>
    {
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(256);
        var writer = t_writer ??= new Utf8JsonWriter(buffer, new JsonWriterOptions { SkipValidation = false });
        buffer.ResetWrittenCount();
        writer.Reset(buffer);
        try
        {
            TJob.Serialize(writer, job);
            writer.Flush();
            return buffer.WrittenSpan.ToArray();
        }
        finally
        {
            writer.Reset(Stream.Null);
            if (buffer.Capacity > 64 * 1024)
            {
                t_buffer = null;
            }
        }
    }
}
