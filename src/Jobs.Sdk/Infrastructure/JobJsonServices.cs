using System.ComponentModel;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;

namespace Jobs.Sdk.Infrastructure;

/// <summary>
/// The fixed part of every generated job serializer: the decode entry point, property iteration, error location and
/// the readers and writers of built-in types. Generated code calls it (as System.Text.Json's generated code calls
/// <c>JsonMetadataServices</c>) so each job's generated file holds only what is specific to that job. Not meant for
/// application code; its members may change between versions together with the generator.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static partial class JobJsonServices
{
    private static readonly JsonReaderOptions ReaderOptions = new()
    {
        CommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        MaxDepth = JobSerializer.MaxDepth, // the writer's limit: what is pushed can be read
    };

    /// <summary>Decodes a job payload with the generated root reader, turning failures into <see cref="JobDecodeException"/>.</summary>
    /// <typeparam name="T">The job type.</typeparam>
    /// <param name="utf8Json">The payload.</param>
    /// <param name="jobName">The job name (for the exception).</param>
    /// <param name="read">The generated reader of the job type.</param>
    /// <returns>The job.</returns>
    public static T Deserialize<T>(ReadOnlySpan<byte> utf8Json, string jobName, JobJsonValueReader<T> read)
    {
        ArgumentNullException.ThrowIfNull(read);
        var reader = new Utf8JsonReader(utf8Json, ReaderOptions);
        try
        {
            if (!reader.Read())
            {
                throw new JobJsonDecodeFailure(null, "the payload is empty");
            }

            var value = read(ref reader);

            // The reader stops at the end of the payload's value; without this, text after it ("{...}garbage", a second
            // object) would be ignored and the job run from a payload that is not what was pushed. Whitespace and
            // comments are skipped; anything else makes Read throw (or, defensively, return a token).
            if (reader.Read())
            {
                throw new JobJsonDecodeFailure(null, "unexpected content after the payload");
            }

            return value;
        }
        catch (JobJsonDecodeFailure failure)
        {
            throw new JobDecodeException(jobName, failure.Member, "$" + failure.Path, failure.Message, failure.InnerException);
        }
        catch (JsonException exception)
        {
            throw new JobDecodeException(jobName, null, "$", exception.Message, exception);
        }
    }

    /// <summary>Fails unless the reader is on the start of an object.</summary>
    /// <param name="reader">The reader.</param>
    public static void StartObject(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw Unexpected(ref reader, "an object");
        }
    }

    /// <summary>Fails unless the reader is on the start of an array.</summary>
    /// <param name="reader">The reader.</param>
    public static void StartArray(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw Unexpected(ref reader, "an array");
        }
    }

    /// <summary>
    /// Moves to the next property of the current object and onto its value; <see langword="false"/> at the end of the object.
    /// </summary>
    /// <param name="reader">The reader, inside an object.</param>
    /// <param name="name">The property name, unescaped.</param>
    /// <returns>Whether a property was read.</returns>
    public static bool NextProperty(ref Utf8JsonReader reader, out ReadOnlySpan<byte> name)
    {
        if (!reader.Read() || reader.TokenType == JsonTokenType.EndObject)
        {
            name = default;
            return false;
        }

        name = reader.ValueIsEscaped ? Unescape(ref reader) : reader.ValueSpan;
        reader.Read();
        return true;
    }

    /// <summary>Whether an exception thrown while reading a payload is a decode error (not a bug or a cancellation).</summary>
    /// <param name="exception">The exception.</param>
    /// <returns><see langword="true"/> for decode errors.</returns>
    public static bool IsReadError(Exception exception)
        => exception is JobJsonDecodeFailure or JsonException or FormatException or InvalidOperationException or OverflowException or ArgumentException;

    /// <summary>Locates a decode error at the member with index <paramref name="at"/> of an object.</summary>
    /// <param name="exception">The decode error.</param>
    /// <param name="at">The member index, or -1 when no member was being read.</param>
    /// <param name="names">The object's CLR and JSON names, interleaved (<c>[member0, json0, member1, json1, ...]</c>).</param>
    /// <returns>The located failure, to throw.</returns>
    public static JobJsonDecodeFailure At(Exception exception, int at, string[] names)
    {
        ArgumentNullException.ThrowIfNull(names);
        return at < 0 ? Locate(exception, null, "") : Locate(exception, names[2 * at], "." + names[(2 * at) + 1]);
    }

    /// <summary>Locates a decode error at an array index.</summary>
    /// <param name="exception">The decode error.</param>
    /// <param name="index">The array index.</param>
    /// <returns>The located failure, to throw.</returns>
    public static JobJsonDecodeFailure AtIndex(Exception exception, int index)
        => Locate(exception, null, "[" + index.ToString(CultureInfo.InvariantCulture) + "]");

    /// <summary>Locates a decode error at a dictionary key.</summary>
    /// <param name="exception">The decode error.</param>
    /// <param name="key">The key.</param>
    /// <returns>The located failure, to throw.</returns>
    public static JobJsonDecodeFailure AtKey(Exception exception, string key) => Locate(exception, null, "." + key);

    /// <summary>The failure for a required member missing from the payload.</summary>
    /// <param name="at">The member index.</param>
    /// <param name="names">The object's CLR and JSON names, interleaved.</param>
    /// <returns>The failure, to throw.</returns>
    public static JobJsonDecodeFailure Missing(int at, string[] names)
    {
        ArgumentNullException.ThrowIfNull(names);
        var json = names[(2 * at) + 1];
        return new JobJsonDecodeFailure(names[2 * at], "the required property '" + json + "' is missing") { Path = "." + json };
    }

    /// <summary>The failure for a token of the wrong kind (or a null where the member is not nullable).</summary>
    /// <param name="reader">The reader, on the offending token.</param>
    /// <param name="expected">What was expected, for example <c>"a string"</c>.</param>
    /// <returns>The failure, to throw.</returns>
    public static JobJsonDecodeFailure Unexpected(ref Utf8JsonReader reader, string expected)
        => new(null, reader.TokenType == JsonTokenType.Null
            ? "null is not allowed (the member is not nullable)"
            : "expected " + expected + ", found " + Describe(ref reader));

    /// <summary>
    /// Returns <paramref name="value"/>, or throws <see cref="ArgumentNullException"/> naming the member when a
    /// non-nullable member is <see langword="null"/> at push (the payload could never be decoded by a worker).
    /// </summary>
    /// <typeparam name="T">The member type.</typeparam>
    /// <param name="value">The member value.</param>
    /// <param name="member">The member, as <c>Type.Member</c>.</param>
    /// <returns><paramref name="value"/>.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T NotNull<T>(T? value, string member)
        where T : class
        => value ?? throw NullMember(member);

    /// <summary>
    /// The exception for an instance of a type derived from the declared (non-sealed) type of a payload member or job:
    /// the generated writer knows only the declared type's members, so the derived type's own would be lost.
    /// </summary>
    /// <param name="value">The instance.</param>
    /// <param name="declared">The declared type's name.</param>
    /// <returns>The exception, to throw.</returns>
    public static ArgumentException DerivedInstance(object value, string declared)
    {
        ArgumentNullException.ThrowIfNull(value);
        return new ArgumentException(
            "A '" + value.GetType() + "' was given where the job payload declares '" + declared + "': the generated serializer writes only '"
            + declared + "' members, so the derived type's own members would be lost and a worker would get a '" + declared
            + "'. Pass a '" + declared + "', declare the member (or push the job) as the derived type, or serialize the type through a JsonSerializerContext with [JsonDerivedType].",
            declared);
    }

    private static ArgumentNullException NullMember(string member)
        => new(member, "'" + member + "' is null, but its type is not nullable: a worker could never decode this job. Set it, or declare the member nullable.");

    private static JobJsonDecodeFailure Locate(Exception exception, string? member, string segment)
    {
        if (exception is JobJsonDecodeFailure failure)
        {
            failure.Member ??= member;
            failure.Path = segment + failure.Path;
            return failure;
        }

        return new JobJsonDecodeFailure(member, exception.Message, exception) { Path = segment };
    }

    private static ReadOnlySpan<byte> Unescape(ref Utf8JsonReader reader)
    {
        var buffer = new byte[reader.HasValueSequence ? reader.ValueSequence.Length : reader.ValueSpan.Length];
        var written = reader.CopyString(buffer);
        return new ReadOnlySpan<byte>(buffer, 0, written);
    }

    private static string Describe(ref Utf8JsonReader reader) => reader.TokenType switch
    {
        JsonTokenType.Number => "the number " + Encoding.UTF8.GetString(reader.ValueSpan),
        JsonTokenType.String => "a string",
        JsonTokenType.True or JsonTokenType.False => "a boolean",
        JsonTokenType.StartObject => "an object",
        JsonTokenType.StartArray => "an array",
        _ => reader.TokenType.ToString(),
    };
}
