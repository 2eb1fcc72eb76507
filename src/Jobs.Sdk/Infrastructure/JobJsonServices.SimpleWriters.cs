using System.Runtime.CompilerServices;
using System.Text.Json;

namespace Jobs.Sdk.Infrastructure;

// One method per built-in type, each with its own name and no overloads. Generated writers call these instead of
// Utf8JsonWriter.WriteString/WriteNumber/WriteStringValue/WriteNumberValue, which have about thirty overloads each:
// resolving those overloads for every member of every job was the largest single part of compiling the generated code
// (see tests/Jobs.Sdk.Benchmarks/README.md, "Build cost"). Each call is inlined at run time.
public static partial class JobJsonServices
{
    /// <summary>Writes a <see cref="bool"/> property.</summary>
    /// <param name="writer">The writer.</param>
    /// <param name="name">The encoded property name.</param>
    /// <param name="value">The value.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void WriteBooleanProperty(Utf8JsonWriter writer, JsonEncodedText name, bool value) => Checked(writer).WriteBoolean(name, value);

    /// <summary>Writes an <see cref="int"/> property (also used for <see cref="byte"/>, <see cref="sbyte"/>, <see cref="short"/> and <see cref="ushort"/>).</summary>
    /// <param name="writer">The writer.</param>
    /// <param name="name">The encoded property name.</param>
    /// <param name="value">The value.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void WriteInt32Property(Utf8JsonWriter writer, JsonEncodedText name, int value) => Checked(writer).WriteNumber(name, value);

    /// <summary>Writes a <see cref="uint"/> property.</summary>
    /// <param name="writer">The writer.</param>
    /// <param name="name">The encoded property name.</param>
    /// <param name="value">The value.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void WriteUInt32Property(Utf8JsonWriter writer, JsonEncodedText name, uint value) => Checked(writer).WriteNumber(name, value);

    /// <summary>Writes a <see cref="long"/> property (also used for <see cref="nint"/>).</summary>
    /// <param name="writer">The writer.</param>
    /// <param name="name">The encoded property name.</param>
    /// <param name="value">The value.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void WriteInt64Property(Utf8JsonWriter writer, JsonEncodedText name, long value) => Checked(writer).WriteNumber(name, value);

    /// <summary>Writes a <see cref="ulong"/> property (also used for <see cref="nuint"/>).</summary>
    /// <param name="writer">The writer.</param>
    /// <param name="name">The encoded property name.</param>
    /// <param name="value">The value.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void WriteUInt64Property(Utf8JsonWriter writer, JsonEncodedText name, ulong value) => Checked(writer).WriteNumber(name, value);

    /// <summary>Writes a <see cref="decimal"/> property (negative zero as a string, see <see cref="WriteDecimal"/>).</summary>
    /// <param name="writer">The writer.</param>
    /// <param name="name">The encoded property name.</param>
    /// <param name="value">The value.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void WriteDecimalProperty(Utf8JsonWriter writer, JsonEncodedText name, decimal value)
    {
        if (value == 0 && decimal.IsNegative(value))
        {
            Checked(writer).WriteString(name, NegativeZero(value));
        }
        else
        {
            Checked(writer).WriteNumber(name, value);
        }
    }

    /// <summary>Writes a <see cref="string"/> property; <see langword="null"/> is written as JSON <c>null</c>.</summary>
    /// <param name="writer">The writer.</param>
    /// <param name="name">The encoded property name.</param>
    /// <param name="value">The value.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void WriteStringProperty(Utf8JsonWriter writer, JsonEncodedText name, string? value)
    {
        CheckSurrogates(value, name.Value);
        Checked(writer).WriteString(name, value);
    }

    /// <summary>Writes a <see cref="Guid"/> property.</summary>
    /// <param name="writer">The writer.</param>
    /// <param name="name">The encoded property name.</param>
    /// <param name="value">The value.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void WriteGuidProperty(Utf8JsonWriter writer, JsonEncodedText name, Guid value) => Checked(writer).WriteString(name, value);

    /// <summary>Writes a <see cref="DateTime"/> property (ISO 8601, as System.Text.Json).</summary>
    /// <param name="writer">The writer.</param>
    /// <param name="name">The encoded property name.</param>
    /// <param name="value">The value.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void WriteDateTimeProperty(Utf8JsonWriter writer, JsonEncodedText name, DateTime value) => Checked(writer).WriteString(name, value);

    /// <summary>Writes a <see cref="DateTimeOffset"/> property (ISO 8601, as System.Text.Json).</summary>
    /// <param name="writer">The writer.</param>
    /// <param name="name">The encoded property name.</param>
    /// <param name="value">The value.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void WriteDateTimeOffsetProperty(Utf8JsonWriter writer, JsonEncodedText name, DateTimeOffset value) => Checked(writer).WriteString(name, value);

    /// <summary>Writes a <see cref="bool"/> value.</summary>
    /// <param name="writer">The writer.</param>
    /// <param name="value">The value.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void WriteBoolean(Utf8JsonWriter writer, bool value) => Checked(writer).WriteBooleanValue(value);

    /// <summary>Writes an <see cref="int"/> value (also used for <see cref="byte"/>, <see cref="sbyte"/>, <see cref="short"/> and <see cref="ushort"/>).</summary>
    /// <param name="writer">The writer.</param>
    /// <param name="value">The value.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void WriteInt32(Utf8JsonWriter writer, int value) => Checked(writer).WriteNumberValue(value);

    /// <summary>Writes a <see cref="uint"/> value.</summary>
    /// <param name="writer">The writer.</param>
    /// <param name="value">The value.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void WriteUInt32(Utf8JsonWriter writer, uint value) => Checked(writer).WriteNumberValue(value);

    /// <summary>Writes a <see cref="long"/> value (also used for <see cref="nint"/>).</summary>
    /// <param name="writer">The writer.</param>
    /// <param name="value">The value.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void WriteInt64(Utf8JsonWriter writer, long value) => Checked(writer).WriteNumberValue(value);

    /// <summary>Writes a <see cref="ulong"/> value (also used for <see cref="nuint"/>).</summary>
    /// <param name="writer">The writer.</param>
    /// <param name="value">The value.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void WriteUInt64(Utf8JsonWriter writer, ulong value) => Checked(writer).WriteNumberValue(value);

    /// <summary>Writes a <see cref="decimal"/> value; negative zero (<c>-0.00m</c>) as the string <c>"-0.00"</c>, which keeps its sign and scale.</summary>
    /// <param name="writer">The writer.</param>
    /// <param name="value">The value.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void WriteDecimal(Utf8JsonWriter writer, decimal value)
    {
        if (value == 0 && decimal.IsNegative(value))
        {
            Checked(writer).WriteStringValue(NegativeZero(value));
        }
        else
        {
            Checked(writer).WriteNumberValue(value);
        }
    }

    /// <summary>
    /// A negative-zero <see cref="decimal"/> (<c>-0.00m</c>) as text that keeps its sign and scale: Utf8JsonWriter writes
    /// the number without the sign, and PostgreSQL's jsonb would drop it anyway. Read back by <see cref="ReadDecimal"/>.
    /// </summary>
    private static string NegativeZero(decimal value) => "-" + value.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Writes a <see cref="string"/> value; <see langword="null"/> is written as JSON <c>null</c>.</summary>
    /// <param name="writer">The writer.</param>
    /// <param name="value">The value.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void WriteString(Utf8JsonWriter writer, string? value)
    {
        CheckSurrogates(value, null);
        Checked(writer).WriteStringValue(value);
    }

    /// <summary>Writes a <see cref="Guid"/> value.</summary>
    /// <param name="writer">The writer.</param>
    /// <param name="value">The value.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void WriteGuid(Utf8JsonWriter writer, Guid value) => Checked(writer).WriteStringValue(value);

    /// <summary>Writes a <see cref="DateTime"/> value (ISO 8601).</summary>
    /// <param name="writer">The writer.</param>
    /// <param name="value">The value.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void WriteDateTime(Utf8JsonWriter writer, DateTime value) => Checked(writer).WriteStringValue(value);

    /// <summary>Writes a <see cref="DateTimeOffset"/> value (ISO 8601).</summary>
    /// <param name="writer">The writer.</param>
    /// <param name="value">The value.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void WriteDateTimeOffset(Utf8JsonWriter writer, DateTimeOffset value) => Checked(writer).WriteStringValue(value);

    /// <summary>Writes a property name taken from data (a dictionary key); an unpaired surrogate is rejected.</summary>
    /// <param name="writer">The writer.</param>
    /// <param name="name">The name.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void WritePropertyName(Utf8JsonWriter writer, string name)
    {
        CheckSurrogates(name, null);
        Checked(writer).WritePropertyName(name);
    }

    /// <summary>
    /// Utf8JsonWriter writes an unpaired surrogate (a string cut in the middle of an emoji, say) as U+FFFD: the worker
    /// would get another string. Such text is rejected when the job is pushed instead. The scan is vectorized and only
    /// strings that contain surrogates at all are checked pair by pair.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CheckSurrogates(string? value, string? property)
    {
        if (value is not null && value.AsSpan().ContainsAnyInRange('\uD800', '\uDFFF'))
        {
            CheckSurrogatePairs(value, property);
        }
    }

    private static void CheckSurrogatePairs(string value, string? property)
    {
        for (var i = 0; i < value.Length; i++)
        {
            if (char.IsHighSurrogate(value[i]) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(value[i]))
            {
                throw UnpairedSurrogate(value[i], i, property);
            }
        }
    }

    private static ArgumentException UnpairedSurrogate(char c, int index, string? property)
        => new(
            "A string in the job payload" + (property is null ? "" : " (property '" + property + "')") + " contains an unpaired surrogate (U+"
            + ((int)c).ToString("X4", System.Globalization.CultureInfo.InvariantCulture) + " at index " + index.ToString(System.Globalization.CultureInfo.InvariantCulture)
            + "), which JSON cannot carry: it would be written as U+FFFD and the worker would get a different string. Remove it (text cut in the middle of a character, for example) before pushing.",
            property);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Utf8JsonWriter Checked(Utf8JsonWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        return writer;
    }
}
