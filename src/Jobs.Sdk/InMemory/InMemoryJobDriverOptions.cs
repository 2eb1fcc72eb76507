namespace Jobs.Sdk.InMemory;

/// <summary>Settings of the in-memory driver.</summary>
public sealed class InMemoryJobDriverOptions
{
    /// <summary>The queue name. Default <c>"default"</c>.</summary>
    public string QueueName { get; set; } = "default";

    /// <summary>What is kept once jobs finish.</summary>
    public RetentionPolicy Retention { get; set; } = new();

    /// <summary>Longest idle wait between checks for due jobs. Default 1 s (pushes wake workers at once).</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Throws unless the options can serve a queue: a storable queue name, a poll interval greater than zero (zero made an
    /// idle worker claim in a loop) and no longer than the longest timer, a retention policy.
    /// </summary>
    internal void Validate()
    {
        ArgumentNullException.ThrowIfNull(QueueName, nameof(QueueName));
        JobTextLimits.CheckQueueName(QueueName, "InMemoryJobDriverOptions.QueueName");
        if (PollInterval <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(PollInterval), PollInterval, "InMemoryJobDriverOptions.PollInterval must be positive.");
        }

        JobTimeLimits.CheckTimer(PollInterval, "InMemoryJobDriverOptions.PollInterval", nameof(PollInterval));
        ArgumentNullException.ThrowIfNull(Retention, nameof(Retention));
    }
}
