using Microsoft.Extensions.Logging;

namespace Jobs.Sdk;

/// <summary>Facts about the job run in progress.</summary>
public sealed class JobContext
{
    internal JobContext(JobId id, string name, string queueName, int attempt, int maxAttempts, DateTimeOffset queuedAt,
        DateTimeOffset? scheduledAt, DateTimeOffset? nextScheduledAt, string workerId, ILogger logger, IServiceProvider services,
        IReadOnlyDictionary<string, string>? headers)
    {
        Id = id;
        Name = name;
        QueueName = queueName;
        Attempt = attempt;
        MaxAttempts = maxAttempts;
        QueuedAt = queuedAt;
        ScheduledAt = scheduledAt;
        NextScheduledAt = nextScheduledAt;
        WorkerId = workerId;
        Logger = logger;
        Services = services;
        Headers = headers ?? EmptyHeaders;
    }

    private static readonly IReadOnlyDictionary<string, string> EmptyHeaders = new Dictionary<string, string>();

    /// <summary>The job id.</summary>
    public JobId Id { get; }
    /// <summary>The job name.</summary>
    public string Name { get; }
    /// <summary>The queue the job came from.</summary>
    public string QueueName { get; }
    /// <summary>The attempt now running, starting at 1.</summary>
    public int Attempt { get; }
    /// <summary>Attempts allowed before the job fails.</summary>
    public int MaxAttempts { get; }
    /// <summary>When the job was pushed.</summary>
    public DateTimeOffset QueuedAt { get; }
    /// <summary>For scheduled jobs, the fire time this run is for.</summary>
    public DateTimeOffset? ScheduledAt { get; }
    /// <summary>For scheduled jobs, the next fire time of the same schedule entry.</summary>
    public DateTimeOffset? NextScheduledAt { get; }
    /// <summary>The id of the worker running the job.</summary>
    public string WorkerId { get; }
    /// <summary>A logger whose scope carries the job id and name.</summary>
    public ILogger Logger { get; }
    /// <summary>The DI scope created for this run.</summary>
    public IServiceProvider Services { get; }
    /// <summary>Headers stored with the job (trace context, schedule information, user headers).</summary>
    public IReadOnlyDictionary<string, string> Headers { get; }
}
