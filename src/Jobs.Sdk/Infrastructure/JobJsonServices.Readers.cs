using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Jobs.Sdk.Infrastructure;

public static partial class JobJsonServices
{
    /// <summary>Reads <see langword="true"/> or <see langword="false"/>.</summary>
    /// <param name="reader">The reader, on the value.</param>
    /// <returns>The value.</returns>
    public static bool ReadBoolean(ref Utf8JsonReader reader) => reader.TokenType switch
    {
        JsonTokenType.True => true,
        JsonTokenType.False => false,
        _ => throw Unexpected(ref reader, "true or false"),
    };

    /// <summary>Reads a JSON number as <see cref="byte"/>.</summary>
    /// <param name="reader">The reader, on the value.</param>
    /// <returns>The value.</returns>
    public static byte ReadByte(ref Utf8JsonReader reader)
        => reader.TokenType == JsonTokenType.Number && reader.TryGetByte(out var value) ? value : throw Unexpected(ref reader, "an 8-bit unsigned integer");

    /// <summary>Reads a JSON number as <see cref="sbyte"/>.</summary>
    /// <param name="reader">The reader, on the value.</param>
    /// <returns>The value.</returns>
    public static sbyte ReadSByte(ref Utf8JsonReader reader)
        => reader.TokenType == JsonTokenType.Number && reader.TryGetSByte(out var value) ? value : throw Unexpected(ref reader, "an 8-bit signed integer");

    /// <summary>Reads a JSON number as <see cref="short"/>.</summary>
    /// <param name="reader">The reader, on the value.</param>
    /// <returns>The value.</returns>
    public static short ReadInt16(ref Utf8JsonReader reader)
        => reader.TokenType == JsonTokenType.Number && reader.TryGetInt16(out var value) ? value : throw Unexpected(ref reader, "a 16-bit integer");

    /// <summary>Reads a JSON number as <see cref="ushort"/>.</summary>
    /// <param name="reader">The reader, on the value.</param>
    /// <returns>The value.</returns>
    public static ushort ReadUInt16(ref Utf8JsonReader reader)
        => reader.TokenType == JsonTokenType.Number && reader.TryGetUInt16(out var value) ? value : throw Unexpected(ref reader, "a 16-bit unsigned integer");

    /// <summary>Reads a JSON number as <see cref="int"/>.</summary>
    /// <param name="reader">The reader, on the value.</param>
    /// <returns>The value.</returns>
    public static int ReadInt32(ref Utf8JsonReader reader)
        => reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var value) ? value : throw Unexpected(ref reader, "a 32-bit integer");

    /// <summary>Reads a JSON number as <see cref="uint"/>.</summary>
    /// <param name="reader">The reader, on the value.</param>
    /// <returns>The value.</returns>
    public static uint ReadUInt32(ref Utf8JsonReader reader)
        => reader.TokenType == JsonTokenType.Number && reader.TryGetUInt32(out var value) ? value : throw Unexpected(ref reader, "a 32-bit unsigned integer");

    /// <summary>Reads a JSON number as <see cref="long"/>.</summary>
    /// <param name="reader">The reader, on the value.</param>
    /// <returns>The value.</returns>
    public static long ReadInt64(ref Utf8JsonReader reader)
        => reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var value) ? value : throw Unexpected(ref reader, "a 64-bit integer");

    /// <summary>Reads a JSON number as <see cref="ulong"/>.</summary>
    /// <param name="reader">The reader, on the value.</param>
    /// <returns>The value.</returns>
    public static ulong ReadUInt64(ref Utf8JsonReader reader)
        => reader.TokenType == JsonTokenType.Number && reader.TryGetUInt64(out var value) ? value : throw Unexpected(ref reader, "a 64-bit unsigned integer");

    /// <summary>Reads a JSON number (or a negative zero written as a string, such as "-0.00") as <see cref="decimal"/>.</summary>
    /// <param name="reader">The reader, on the value.</param>
    /// <returns>The value.</returns>
    public static decimal ReadDecimal(ref Utf8JsonReader reader)
    {
        if (reader.TokenType == JsonTokenType.Number && reader.TryGetDecimal(out var value))
        {
            return value;
        }

        Span<char> buffer = stackalloc char[64];
        if (TryCopyShortString(ref reader, buffer, out var length)
            && decimal.TryParse(buffer[..length], NumberStyles.Float, CultureInfo.InvariantCulture, out value) && value == 0 && decimal.IsNegative(value))
        {
            return value;
        }

        throw Unexpected(ref reader, "a decimal number");
    }

    /// <summary>Reads a JSON number as <see cref="nint"/>.</summary>
    /// <param name="reader">The reader, on the value.</param>
    /// <returns>The value.</returns>
    public static nint ReadIntPtr(ref Utf8JsonReader reader)
        => reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var value) && value >= nint.MinValue && value <= nint.MaxValue
            ? (nint)value
            : throw Unexpected(ref reader, "a native integer");

    /// <summary>Reads a JSON number as <see cref="nuint"/>.</summary>
    /// <param name="reader">The reader, on the value.</param>
    /// <returns>The value.</returns>
    public static nuint ReadUIntPtr(ref Utf8JsonReader reader)
        => reader.TokenType == JsonTokenType.Number && reader.TryGetUInt64(out var value) && value <= nuint.MaxValue
            ? (nuint)value
            : throw Unexpected(ref reader, "a native unsigned integer");

    /// <summary>Reads a JSON number within <see cref="float"/>'s range (or "NaN", "Infinity", "-Infinity", "-0") as <see cref="float"/>.</summary>
    /// <param name="reader">The reader, on the value.</param>
    /// <returns>The value.</returns>
    public static float ReadSingle(ref Utf8JsonReader reader)
    {
        // A JSON number beyond the type's range parses as infinity; the generator writes infinities as strings, so such a
        // number is a value this type cannot hold (a double member narrowed to float by a deploy), not an infinity.
        if (reader.TokenType == JsonTokenType.Number && reader.TryGetSingle(out var value) && float.IsFinite(value))
        {
            return value;
        }

        if (reader.TokenType == JsonTokenType.String
            && float.TryParse(reader.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out value)
            && (!float.IsFinite(value) || (value == 0 && float.IsNegative(value))))
        {
            return value;
        }

        throw Unexpected(ref reader, "a number");
    }

    /// <summary>Reads a JSON number within <see cref="double"/>'s range (or "NaN", "Infinity", "-Infinity", "-0") as <see cref="double"/>.</summary>
    /// <param name="reader">The reader, on the value.</param>
    /// <returns>The value.</returns>
    public static double ReadDouble(ref Utf8JsonReader reader)
    {
        // A JSON number beyond the type's range parses as infinity; the generator writes infinities as strings, so such a
        // number is a value this type cannot hold (a double member narrowed to float by a deploy), not an infinity.
        if (reader.TokenType == JsonTokenType.Number && reader.TryGetDouble(out var value) && double.IsFinite(value))
        {
            return value;
        }

        if (reader.TokenType == JsonTokenType.String
            && double.TryParse(reader.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out value)
            && (!double.IsFinite(value) || (value == 0 && double.IsNegative(value))))
        {
            return value;
        }

        throw Unexpected(ref reader, "a number");
    }

    /// <summary>Reads a JSON string.</summary>
    /// <param name="reader">The reader, on the value.</param>
    /// <returns>The value.</returns>
    public static string ReadString(ref Utf8JsonReader reader)
        => reader.TokenType == JsonTokenType.String ? reader.GetString()! : throw Unexpected(ref reader, "a string");

    /// <summary>Reads a one-character JSON string.</summary>
    /// <param name="reader">The reader, on the value.</param>
    /// <returns>The value.</returns>
    public static char ReadChar(ref Utf8JsonReader reader)
    {
        if (reader.TokenType == JsonTokenType.String && reader.ValueSpan.Length <= 12)
        {
            Span<char> buffer = stackalloc char[12];
            if (reader.CopyString(buffer) == 1)
            {
                return buffer[0];
            }
        }

        throw Unexpected(ref reader, "a one-character string");
    }

    /// <summary>Reads a GUID string.</summary>
    /// <param name="reader">The reader, on the value.</param>
    /// <returns>The value.</returns>
    public static Guid ReadGuid(ref Utf8JsonReader reader)
        => reader.TokenType == JsonTokenType.String && reader.TryGetGuid(out var value) ? value : throw Unexpected(ref reader, "a GUID string");

    /// <summary>Reads an ISO 8601 date and time.</summary>
    /// <param name="reader">The reader, on the value.</param>
    /// <returns>The value.</returns>
    public static DateTime ReadDateTime(ref Utf8JsonReader reader)
        => reader.TokenType == JsonTokenType.String && reader.TryGetDateTime(out var value) ? value : throw Unexpected(ref reader, "an ISO 8601 date and time");

    /// <summary>Reads an ISO 8601 date and time with offset.</summary>
    /// <param name="reader">The reader, on the value.</param>
    /// <returns>The value.</returns>
    public static DateTimeOffset ReadDateTimeOffset(ref Utf8JsonReader reader)
        => reader.TokenType == JsonTokenType.String && reader.TryGetDateTimeOffset(out var value) ? value : throw Unexpected(ref reader, "an ISO 8601 date and time with offset");

    /// <summary>Reads a date (<c>yyyy-MM-dd</c>).</summary>
    /// <param name="reader">The reader, on the value.</param>
    /// <returns>The value.</returns>
    public static DateOnly ReadDateOnly(ref Utf8JsonReader reader)
    {
        Span<char> buffer = stackalloc char[64];
        return TryCopyShortString(ref reader, buffer, out var length)
            && DateOnly.TryParse(buffer[..length], CultureInfo.InvariantCulture, DateTimeStyles.None, out var value)
            ? value
            : throw Unexpected(ref reader, "a date (yyyy-MM-dd)");
    }

    /// <summary>Reads a time of day (<c>HH:mm:ss.fffffff</c>).</summary>
    /// <param name="reader">The reader, on the value.</param>
    /// <returns>The value.</returns>
    public static TimeOnly ReadTimeOnly(ref Utf8JsonReader reader)
    {
        Span<char> buffer = stackalloc char[64];
        return TryCopyShortString(ref reader, buffer, out var length)
            && TimeOnly.TryParse(buffer[..length], CultureInfo.InvariantCulture, DateTimeStyles.None, out var value)
            ? value
            : throw Unexpected(ref reader, "a time of day (HH:mm:ss.fffffff)");
    }

    /// <summary>Reads a time span (<c>[-][d.]hh:mm:ss[.fffffff]</c>).</summary>
    /// <param name="reader">The reader, on the value.</param>
    /// <returns>The value.</returns>
    public static TimeSpan ReadTimeSpan(ref Utf8JsonReader reader)
    {
        Span<char> buffer = stackalloc char[64];
        return TryCopyShortString(ref reader, buffer, out var length)
            && TimeSpan.TryParse(buffer[..length], CultureInfo.InvariantCulture, out var value)
            ? value
            : throw Unexpected(ref reader, "a time span ([-][d.]hh:mm:ss[.fffffff])");
    }

    /// <summary>Reads a URI string (absolute or relative).</summary>
    /// <param name="reader">The reader, on the value.</param>
    /// <returns>The value.</returns>
    public static Uri ReadUri(ref Utf8JsonReader reader)
        => reader.TokenType == JsonTokenType.String && Uri.TryCreate(reader.GetString(), UriKind.RelativeOrAbsolute, out var value)
            ? value
            : throw Unexpected(ref reader, "a URI string");

    /// <summary>Reads a base64 string.</summary>
    /// <param name="reader">The reader, on the value.</param>
    /// <returns>The value.</returns>
    public static byte[] ReadByteArray(ref Utf8JsonReader reader)
        => reader.TokenType == JsonTokenType.String && reader.TryGetBytesFromBase64(out var value) ? value : throw Unexpected(ref reader, "a base64 string");

    /// <summary>
    /// Reads an enum written by name (a <c>[Flags]</c> combination as a comma-separated list of any length) or as its
    /// number. Like System.Text.Json's string enum converter: an exact (case-sensitive) match wins, then a
    /// case-insensitive one, so members that differ only in case read back as themselves.
    /// </summary>
    /// <typeparam name="TEnum">The enum type.</typeparam>
    /// <param name="reader">The reader, on the value.</param>
    /// <returns>The value.</returns>
    public static TEnum ReadEnum<TEnum>(ref Utf8JsonReader reader)
        where TEnum : struct, Enum
    {
        if (reader.TokenType is JsonTokenType.String or JsonTokenType.Number)
        {
            var length = reader.HasValueSequence ? (int)reader.ValueSequence.Length : reader.ValueSpan.Length;
            var buffer = length <= 256 ? stackalloc char[256] : new char[length];
            var written = reader.TokenType == JsonTokenType.String
                ? reader.CopyString(buffer)
                : Encoding.UTF8.GetChars(reader.ValueSpan, buffer);
            var text = buffer[..written];

            // Enum.TryParse ORs comma-separated names for any enum; only a [Flags] enum is written that way, so for
            // another enum "Low, High" is not a value this version wrote (it would run the job with Low | High).
            if (text.Contains(',') && !EnumShape<TEnum>.IsFlags)
            {
                throw new JobJsonDecodeFailure(null, "expected a " + typeof(TEnum).Name + " name, found '" + text.ToString()
                    + "' (a combination of names, but " + typeof(TEnum).Name + " is not a [Flags] enum)");
            }

            if (Enum.TryParse<TEnum>(text, ignoreCase: false, out var value) || Enum.TryParse(text, ignoreCase: true, out value))
            {
                return value;
            }
        }

        throw Unexpected(ref reader, "a " + typeof(TEnum).Name + " name");
    }

    private static class EnumShape<TEnum>
        where TEnum : struct, Enum
    {
        // Read once per enum type, and only for a value holding a comma. Enum formatting reads the same attribute, so
        // trimming and AOT keep it.
        public static readonly bool IsFlags = typeof(TEnum).IsDefined(typeof(FlagsAttribute), inherit: false);
    }

    private static bool TryCopyShortString(ref Utf8JsonReader reader, scoped Span<char> buffer, out int length)
    {
        if (reader.TokenType == JsonTokenType.String && !reader.HasValueSequence && reader.ValueSpan.Length <= buffer.Length)
        {
            length = reader.CopyString(buffer);
            return true;
        }

        length = 0;
        return false;
    }
}
