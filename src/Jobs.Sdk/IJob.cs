using System.Text.Json;

namespace Jobs.Sdk;

/// <summary>
/// Describes a job type to the runtime without reflection. The source generator implements it for every
/// <see cref="JobAttribute"/> type; tests and advanced users may implement it by hand.
/// </summary>
/// <typeparam name="TSelf">The job type itself.</typeparam>
public interface IJob<TSelf> where TSelf : IJob<TSelf>
{
    /// <summary>The stable job name stored with every queued job.</summary>
    static abstract string JobName { get; }

    /// <summary>Total attempts before the job fails; <see langword="null"/> uses the queue's retry strategy.</summary>
    static virtual int? MaxAttempts => null;

    /// <summary>Per-attempt timeout; <see langword="null"/> means none.</summary>
    static virtual TimeSpan? Timeout => null;

    /// <summary>Writes <paramref name="job"/> as one JSON value.</summary>
    static abstract void Serialize(Utf8JsonWriter writer, TSelf job);

    /// <summary>
    /// Reads a job from UTF-8 JSON. Throws <see cref="JobDecodeException"/> (job name, member, JSON path) when the
    /// payload cannot be read; unknown properties are skipped and missing optional members take their defaults.
    /// </summary>
    static abstract TSelf Deserialize(ReadOnlySpan<byte> utf8Json);
}
