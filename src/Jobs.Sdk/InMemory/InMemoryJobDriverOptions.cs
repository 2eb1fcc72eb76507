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
}
