using System.Globalization;
using System.Text.Json;

namespace Jobs.Sdk.Infrastructure;

public static partial class JobJsonServices
{
    /// <summary>
    /// Writes a <see cref="float"/>: non-finite values as strings, as System.Text.Json's named-literal handling, and
    /// negative zero as the string <c>"-0"</c> (PostgreSQL's jsonb stores the number -0 as 0, so a worker on that driver
    /// would get +0).
    /// </summary>
    /// <param name="writer">The writer.</param>
    /// <param name="value">The value.</param>
    public static void WriteSingle(Utf8JsonWriter writer, float value)
    {
        ArgumentNullException.ThrowIfNull(writer);
        if (float.IsFinite(value) && !(value == 0 && float.IsNegative(value)))
        {
            writer.WriteNumberValue(value);
        }
        else
        {
            writer.WriteStringValue(value.ToString(CultureInfo.InvariantCulture));
        }
    }

    /// <summary>Writes a <see cref="double"/> (non-finite values and negative zero as strings, see <see cref="WriteSingle"/>).</summary>
    /// <param name="writer">The writer.</param>
    /// <param name="value">The value.</param>
    public static void WriteDouble(Utf8JsonWriter writer, double value)
    {
        ArgumentNullException.ThrowIfNull(writer);
        if (double.IsFinite(value) && !(value == 0 && double.IsNegative(value)))
        {
            writer.WriteNumberValue(value);
        }
        else
        {
            writer.WriteStringValue(value.ToString(CultureInfo.InvariantCulture));
        }
    }

    /// <summary>Writes a <see cref="char"/> as a one-character string.</summary>
    /// <param name="writer">The writer.</param>
    /// <param name="value">The value.</param>
    public static void WriteChar(Utf8JsonWriter writer, char value)
    {
        ArgumentNullException.ThrowIfNull(writer);
        if (char.IsSurrogate(value))
        {
            throw UnpairedSurrogate(value, 0, null);
        }

        writer.WriteStringValue(new ReadOnlySpan<char>(in value));
    }

    /// <summary>Writes a <see cref="DateOnly"/> as <c>yyyy-MM-dd</c>.</summary>
    /// <param name="writer">The writer.</param>
    /// <param name="value">The value.</param>
    public static void WriteDateOnly(Utf8JsonWriter writer, DateOnly value) => WriteFormatted(writer, value, "yyyy-MM-dd");

    /// <summary>Writes a <see cref="TimeOnly"/> as <c>HH:mm:ss.fffffff</c>.</summary>
    /// <param name="writer">The writer.</param>
    /// <param name="value">The value.</param>
    public static void WriteTimeOnly(Utf8JsonWriter writer, TimeOnly value) => WriteFormatted(writer, value, "HH:mm:ss.fffffff");

    /// <summary>Writes a <see cref="TimeSpan"/> in the constant (<c>c</c>) format.</summary>
    /// <param name="writer">The writer.</param>
    /// <param name="value">The value.</param>
    public static void WriteTimeSpan(Utf8JsonWriter writer, TimeSpan value) => WriteFormatted(writer, value, "c");

    /// <summary>
    /// Writes a <see cref="Uri"/> as its original string, except an absolute <c>file:</c> URI made from a local path
    /// (<c>new Uri("/srv/a.csv")</c>, <c>new Uri(@"C:\a.csv")</c>: its original string has no scheme), written in its
    /// absolute form (<c>file:///srv/a.csv</c>): the bare path would read back as a relative URI (a rooted path is a
    /// relative reference for <see cref="UriKind.RelativeOrAbsolute"/> on Linux), whose <see cref="Uri.LocalPath"/> throws.
    /// </summary>
    /// <param name="writer">The writer.</param>
    /// <param name="value">The value.</param>
    public static void WriteUri(Utf8JsonWriter writer, Uri value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var text = value.OriginalString;
        if (value.IsAbsoluteUri && value.IsFile && !text.TrimStart().StartsWith("file:", StringComparison.OrdinalIgnoreCase))
        {
            // The absolute form escapes what the path holds: an unpaired surrogate would become the escape of U+FFFD.
            CheckSurrogates(text, null);
            text = value.AbsoluteUri;
        }

        WriteString(writer, text);
    }

    /// <summary>Writes an enum value that is not a single named member (a <c>[Flags]</c> combination or an undefined number).</summary>
    /// <typeparam name="TEnum">The enum type.</typeparam>
    /// <param name="writer">The writer.</param>
    /// <param name="value">The value.</param>
    public static void WriteEnum<TEnum>(Utf8JsonWriter writer, TEnum value)
        where TEnum : struct, Enum
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStringValue(value.ToString());
    }

    private static void WriteFormatted<T>(Utf8JsonWriter writer, T value, string format)
        where T : IUtf8SpanFormattable
    {
        ArgumentNullException.ThrowIfNull(writer);
        Span<byte> buffer = stackalloc byte[32];
        value.TryFormat(buffer, out var written, format, CultureInfo.InvariantCulture);
        writer.WriteStringValue(buffer[..written]);
    }
}
