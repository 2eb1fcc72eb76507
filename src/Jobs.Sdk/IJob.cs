using System.Text.Json;

namespace Jobs.Sdk;

/// <summary>
/// Describes a job type to the runtime without reflection. The source generator implements it for every
/// <see cref="JobAttribute"/> type; tests and advanced users may implement it by hand.
/// </summary>
/// <typeparam name="TSelf">The job type itself.</typeparam>
public interface IJob<TSelf> where TSelf : IJob<TSelf>
{
    /// <summary>
    /// The stable job name stored with every queued job: 1 to 255 characters, not only whitespace, no control characters
    /// and no unpaired surrogates (registering a job type with another name throws at start-up).
    /// </summary>
    static abstract string JobName { get; }

    /// <summary>Total attempts before the job fails; <see langword="null"/> uses the queue's retry strategy.</summary>
    static virtual int? MaxAttempts => null;

    /// <summary>Per-attempt timeout; <see langword="null"/> means none.</summary>
    static virtual TimeSpan? Timeout => null;

    /// <summary>The job type's default queue (<see cref="JobAttribute.Queue"/>); <see langword="null"/> means the driver's queue.</summary>
    static virtual string? Queue => null;

    /// <summary>Whether pushes of this type are unique by key (<see cref="JobAttribute.Unique"/>).</summary>
    static virtual bool Unique => false;

    /// <summary>Seconds a unique key still holds after the job finished (<see cref="JobAttribute.UniqueFor"/>).</summary>
    static virtual int UniqueForSeconds => 0;

    /// <summary>
    /// The unique key of <paramref name="job"/> from its <see cref="UniqueKeyAttribute"/> members (generated, no
    /// reflection); <see langword="null"/> when no member is marked (the whole payload is then the key).
    /// </summary>
    static virtual string? GetUniqueKey(TSelf job) => null;

    /// <summary>
    /// How many jobs with the same concurrency key may run at once (<see cref="JobAttribute.ConcurrencyLimit"/>);
    /// <see langword="null"/> means no limit.
    /// </summary>
    static virtual int? ConcurrencyLimit => null;

    /// <summary>
    /// The concurrency key of <paramref name="job"/>: the job name and its <see cref="ConcurrencyKeyAttribute"/> members
    /// (generated, no reflection), or the job name when none is marked; only read when <see cref="ConcurrencyLimit"/> is set.
    /// </summary>
    static virtual string GetConcurrencyKey(TSelf job) => TSelf.JobName;

    /// <summary>Writes <paramref name="job"/> as one JSON value.</summary>
    static abstract void Serialize(Utf8JsonWriter writer, TSelf job);

    /// <summary>
    /// Reads a job from UTF-8 JSON. Throws <see cref="JobDecodeException"/> (job name, member, JSON path) when the
    /// payload cannot be read; unknown properties are skipped and missing optional members take their defaults.
    /// </summary>
    static abstract TSelf Deserialize(ReadOnlySpan<byte> utf8Json);
}
