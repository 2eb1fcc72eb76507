using System.ComponentModel;
using System.Globalization;
using System.Text;

namespace Jobs.Sdk.Infrastructure;

/// <summary>
/// Turns key members (<see cref="UniqueKeyAttribute"/>) into key text; called by generated code, not meant for
/// application code. Culture-invariant and round-trip exact, so equal members always give equal keys.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class JobKeyText
{
    /// <summary>A string member (<see langword="null"/> stays distinct from empty).</summary>
    public static string? Of(string? value) => value;

    /// <summary>A <see cref="Guid"/> member.</summary>
    public static string Of(Guid value) => value.ToString("N");

    /// <summary>A <see cref="bool"/> member.</summary>
    public static string Of(bool value) => value ? "1" : "0";

    /// <summary>A <see cref="char"/> member.</summary>
    public static string Of(char value) => value.ToString();

    /// <summary>
    /// A <see cref="DateTime"/> member (round-trip format). A value of kind <see cref="DateTimeKind.Local"/> is written
    /// as an unspecified one: its round-trip text would carry the offset of the pushing machine's time zone, so equal
    /// values (<c>DateTime.Today</c> on two machines) would give different keys. <see cref="DateTimeKind.Utc"/> keeps its <c>Z</c>.
    /// </summary>
    public static string Of(DateTime value)
        => (value.Kind == DateTimeKind.Local ? DateTime.SpecifyKind(value, DateTimeKind.Unspecified) : value).ToString("O", CultureInfo.InvariantCulture);

    /// <summary>
    /// A <see cref="DateTimeOffset"/> member: the instant, in UTC (round-trip format, <c>+00:00</c>), as
    /// <see cref="DateTimeOffset"/> equality compares instants: the same instant pushed with another offset gives the same key.
    /// </summary>
    public static string Of(DateTimeOffset value) => value.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture);

    /// <summary>A <see cref="DateOnly"/> member.</summary>
    public static string Of(DateOnly value) => value.ToString("O", CultureInfo.InvariantCulture);

    /// <summary>A <see cref="TimeOnly"/> member.</summary>
    public static string Of(TimeOnly value) => value.ToString("O", CultureInfo.InvariantCulture);

    /// <summary>A signed integer member (enums are passed as their value).</summary>
    public static string Of(long value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>An unsigned integer member.</summary>
    public static string Of(ulong value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>A nullable member: <see langword="null"/>, or the text of its value.</summary>
    public static string? Of<T>(T? value, Func<T, string> of) where T : struct => value is { } v ? of(v) : null;

    /// <summary>The key of several members, in order: unambiguous (separators inside values are escaped, nulls marked).</summary>
    public static string Join(params string?[] parts)
    {
        ArgumentNullException.ThrowIfNull(parts);
        if (parts.Length == 1 && parts[0] is { } single && single.AsSpan().IndexOfAny('\\', '\u001f', '\0') < 0)
        {
            return single;
        }

        var sb = new StringBuilder();
        for (var i = 0; i < parts.Length; i++)
        {
            if (i > 0)
            {
                sb.Append('\u001f');
            }

            if (parts[i] is not { } part)
            {
                sb.Append('\0');
                continue;
            }

            foreach (var c in part)
            {
                _ = c switch
                {
                    '\\' => sb.Append(@"\\"),
                    '\u001f' => sb.Append(@"\s"),
                    '\0' => sb.Append(@"\0"),
                    _ => sb.Append(c),
                };
            }
        }

        return sb.ToString();
    }
}
