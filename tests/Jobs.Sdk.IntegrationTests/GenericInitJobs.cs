using Jobs.Sdk;

#pragma warning disable CA1034 // A type nested in a generic type is one of the shapes under test.

namespace Jobs.Sdk.IntegrationTests;

/// <summary>A generic base record: its init-only properties are declared on a generic type.</summary>
/// <typeparam name="TResult">The result type.</typeparam>
public abstract record JobBase<TResult>
{
    /// <summary>The expected result.</summary>
    public TResult? Expected { get; init; }

    /// <summary>Correlates the job with its caller.</summary>
    public Guid CorrelationId { get; init; }
}

/// <summary>A job deriving from a generic base record; <paramref name="Name"/> is its own member (a paramref the push overloads taking the job carry as code text).</summary>
/// <param name="Name">Its own member.</param>
[Job("generic-base")]
public sealed partial record GenericBaseJob(string Name) : JobBase<int>;

/// <summary>A generic record with an init-only property next to its positional one.</summary>
/// <typeparam name="T">The value type.</typeparam>
/// <param name="Value">The value.</param>
public sealed record Envelope<T>(T Value)
{
    /// <summary>The version.</summary>
    public int Version { get; init; }
}

/// <summary>A generic class with a constraint and an init-only property of the type parameter.</summary>
/// <typeparam name="T">The content type.</typeparam>
public sealed class Box<T> where T : class
{
    /// <summary>The content.</summary>
    public T? Content { get; init; }
}

/// <summary>A generic struct with init-only properties.</summary>
/// <typeparam name="T">The value type.</typeparam>
public readonly struct Tagged<T> : IEquatable<Tagged<T>> where T : struct
{
    /// <summary>The value.</summary>
    public T Value { get; init; }

    /// <summary>The tag.</summary>
    public string Tag { get; init; }

    /// <inheritdoc />
    public bool Equals(Tagged<T> other) => Value.Equals(other.Value) && Tag == other.Tag;

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is Tagged<T> other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Value, Tag);

    /// <summary>Equality.</summary>
    public static bool operator ==(Tagged<T> left, Tagged<T> right) => left.Equals(right);

    /// <summary>Inequality.</summary>
    public static bool operator !=(Tagged<T> left, Tagged<T> right) => !left.Equals(right);
}

/// <summary>A generic class holding a non-generic nested type.</summary>
/// <typeparam name="TKey">The key type.</typeparam>
public static class Catalog<TKey>
{
    /// <summary>A nested type whose init-only property is declared on a type inside a generic type.</summary>
    public sealed record Entry
    {
        /// <summary>The key.</summary>
        public TKey? Key { get; init; }

        /// <summary>The label.</summary>
        public string Label { get; init; } = "none";
    }
}

/// <summary>Members whose init-only properties are declared on generic types.</summary>
/// <param name="Envelope">A generic record.</param>
/// <param name="Box">A generic class with a constraint.</param>
/// <param name="Tagged">A generic struct.</param>
/// <param name="Entry">A type nested in a generic type.</param>
/// <param name="Envelopes">Generic records in a list.</param>
[Job("generic-members")]
public sealed partial record GenericMembersJob(Envelope<string> Envelope, Box<string> Box, Tagged<long> Tagged, Catalog<Guid>.Entry Entry, List<Envelope<int>> Envelopes);

/// <summary>A generic class whose type parameters carry the constraints the runtime compares (type, notnull, unmanaged).</summary>
/// <typeparam name="TKey">The key type.</typeparam>
/// <typeparam name="TValue">The value type.</typeparam>
public sealed class Ranked<TKey, TValue> where TKey : notnull, IComparable<TKey> where TValue : unmanaged
{
    /// <summary>The key.</summary>
    public TKey? Key { get; init; }

    /// <summary>The value.</summary>
    public TValue Value { get; init; }
}

/// <summary>A generic class with the class and new() constraints.</summary>
/// <typeparam name="T">The item type.</typeparam>
public sealed class Made<T> where T : class, new()
{
    /// <summary>The item.</summary>
    public T? Item { get; init; }
}

/// <summary>An item with a parameterless constructor.</summary>
public sealed record MadeItem
{
    /// <summary>A number.</summary>
    public int Number { get; init; }
}

/// <summary>Members of constrained generic types.</summary>
/// <param name="Ranked">Type, notnull and unmanaged constraints.</param>
/// <param name="Made">Class and new() constraints.</param>
[Job("generic-constrained")]
public sealed partial record ConstrainedGenericJob(Ranked<string, long> Ranked, Made<MadeItem> Made);

/// <summary>Handles <see cref="GenericBaseJob"/>.</summary>
public sealed class GenericBaseHandler(Recorder recorder) : IJobHandler<GenericBaseJob>
{
    /// <inheritdoc />
    public Task HandleAsync(GenericBaseJob job, JobContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        recorder.Record("generic-base:" + job.Name, job);
        return Task.CompletedTask;
    }
}
