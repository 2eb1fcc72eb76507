using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Jobs.Sdk;

/// <summary>
/// How <see cref="JobQuery.PayloadText"/> reads a payload, the same on every driver. The payload is read as PostgreSQL prints a
/// <c>jsonb</c> value — <c>{"key": value, ...}</c>, keys in jsonb's order, strings escaped only where JSON must (quote,
/// backslash, control characters; <c>é</c>, <c>'</c>, <c>&amp;</c> or <c>+</c> as themselves) — and matches, ignoring case,
/// when it contains the text as typed or the text as it reads inside a JSON string (escaped the same way). So <c>a"b</c>,
/// <c>C:\temp</c> or <c>café</c> find the values that hold them, and so does the escaped form a JSON view shows
/// (<c>a\"b</c>). A plain substring: <c>%</c> and <c>_</c> are not wildcards.
/// </summary>
internal static class JobPayloadText
{
    /// <summary>Whether <paramref name="renderedJson"/> (see <see cref="Render"/>) contains <paramref name="text"/>, typed or escaped.</summary>
    public static bool Contains(string renderedJson, string text)
        => renderedJson.Contains(text, StringComparison.OrdinalIgnoreCase)
            || renderedJson.Contains(Escape(text), StringComparison.OrdinalIgnoreCase);

    /// <summary><paramref name="text"/> as PostgreSQL's jsonb output writes it inside a string (without the quotes).</summary>
    public static string Escape(string text)
    {
        var builder = new StringBuilder(text.Length + 8);
        AppendEscaped(builder, text);
        return builder.ToString();
    }

    /// <summary>
    /// <paramref name="json"/> as PostgreSQL prints it once stored as <c>jsonb</c>: <c>", "</c> and <c>": "</c> between items,
    /// object keys shorter first then in byte order (the last of duplicate keys wins), strings escaped as by <see cref="Escape"/>,
    /// numbers as written. Text that is not JSON is returned as it is.
    /// </summary>
    public static string Render(string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            var builder = new StringBuilder(json.Length + 16);
            Append(builder, document.RootElement);
            return builder.ToString();
        }
        catch (JsonException)
        {
            return json;
        }
    }

    private static void Append(StringBuilder builder, JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                var properties = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
                foreach (var property in element.EnumerateObject())
                {
                    properties[property.Name] = property.Value;
                }

                builder.Append('{');
                var first = true;
                foreach (var (name, value) in properties.OrderBy(p => p.Key, JsonbKeyOrder.Instance))
                {
                    builder.Append(first ? "\"" : ", \"");
                    first = false;
                    AppendEscaped(builder, name);
                    builder.Append("\": ");
                    Append(builder, value);
                }

                builder.Append('}');
                break;
            case JsonValueKind.Array:
                builder.Append('[');
                var firstItem = true;
                foreach (var item in element.EnumerateArray())
                {
                    builder.Append(firstItem ? "" : ", ");
                    firstItem = false;
                    Append(builder, item);
                }

                builder.Append(']');
                break;
            case JsonValueKind.String:
                builder.Append('"');
                AppendEscaped(builder, element.GetString()!);
                builder.Append('"');
                break;
            default:
                builder.Append(element.GetRawText());
                break;
        }
    }

    /// <summary>PostgreSQL's <c>escape_json</c>: <c>\"</c>, <c>\\</c>, <c>\b \f \n \r \t</c>, other control characters as <c>\u00xx</c>.</summary>
    private static void AppendEscaped(StringBuilder builder, string text)
    {
        foreach (var c in text)
        {
            switch (c)
            {
                case '"': builder.Append("\\\""); break;
                case '\\': builder.Append("\\\\"); break;
                case '\b': builder.Append("\\b"); break;
                case '\f': builder.Append("\\f"); break;
                case '\n': builder.Append("\\n"); break;
                case '\r': builder.Append("\\r"); break;
                case '\t': builder.Append("\\t"); break;
                case < ' ': builder.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture)); break;
                default: builder.Append(c); break;
            }
        }
    }

    /// <summary>jsonb's key order: shorter first, then byte order, both of the UTF-8 bytes.</summary>
    private sealed class JsonbKeyOrder : IComparer<string>
    {
        public static readonly JsonbKeyOrder Instance = new();

        public int Compare(string? x, string? y)
        {
            var a = Encoding.UTF8.GetBytes(x ?? "");
            var b = Encoding.UTF8.GetBytes(y ?? "");
            return a.Length != b.Length ? a.Length.CompareTo(b.Length) : a.AsSpan().SequenceCompareTo(b);
        }
    }
}
