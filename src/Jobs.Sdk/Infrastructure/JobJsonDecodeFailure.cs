using System.ComponentModel;
using System.Text.Json;

namespace Jobs.Sdk.Infrastructure;

/// <summary>
/// Reads one value of <typeparamref name="T"/> from the reader's current token (generated code passes its per-type
/// readers to <see cref="JobJsonServices.Deserialize{T}"/>).
/// </summary>
/// <typeparam name="T">The type read.</typeparam>
/// <param name="reader">The reader, positioned on the value's first token.</param>
/// <returns>The value.</returns>
[EditorBrowsable(EditorBrowsableState.Never)]
public delegate T JobJsonValueReader<out T>(ref Utf8JsonReader reader);

/// <summary>
/// A decode error inside a generated job serializer, located as it propagates out of nested objects and collections.
/// <see cref="JobJsonServices.Deserialize{T}"/> turns it into a <see cref="JobDecodeException"/>; generated code only.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class JobJsonDecodeFailure : Exception
{
    /// <summary>Creates the failure.</summary>
    public JobJsonDecodeFailure() : this(null, "the payload could not be decoded") { }

    /// <summary>Creates the failure.</summary>
    /// <param name="message">Why the payload could not be decoded.</param>
    public JobJsonDecodeFailure(string message) : this(null, message) { }

    /// <summary>Creates the failure.</summary>
    /// <param name="message">Why the payload could not be decoded.</param>
    /// <param name="innerException">The exception that caused it.</param>
    public JobJsonDecodeFailure(string message, Exception? innerException) : this(null, message, innerException) { }

    /// <summary>Creates the failure for a member.</summary>
    /// <param name="member">The CLR member being read, when known.</param>
    /// <param name="message">Why the payload could not be decoded.</param>
    /// <param name="innerException">The exception that caused it.</param>
    public JobJsonDecodeFailure(string? member, string message, Exception? innerException = null)
        : base(message, innerException) => Member = member;

    /// <summary>The CLR member being read (the innermost one known).</summary>
    public string? Member { get; internal set; }

    /// <summary>The JSON path below the root, for example <c>.lines[1].sku</c>.</summary>
    public string Path { get; internal set; } = "";
}
