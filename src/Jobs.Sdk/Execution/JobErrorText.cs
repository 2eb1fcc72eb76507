using System.Text;

namespace Jobs.Sdk;

/// <summary>
/// Makes an error text storable by every driver: no NUL characters (PostgreSQL text rejects them), no unpaired UTF-16
/// surrogates (they have no UTF-8 encoding), and at most <see cref="MaxLength"/> characters, cut on a character boundary.
/// </summary>
internal static class JobErrorText
{
    /// <summary>The longest error text stored, in UTF-16 code units.</summary>
    public const int MaxLength = 8000;

    /// <summary>What replaces an error text that a store still rejects after sanitizing.</summary>
    public const string Rejected = "Jobs.Sdk.OutcomeRejected: the store rejected this attempt's error text; see the worker log.";

    /// <summary><paramref name="text"/> made storable; the same instance when it already is.</summary>
    public static string? Sanitize(string? text) => Sanitize(text, MaxLength);

    /// <summary>
    /// <paramref name="text"/> made storable and cut to <paramref name="maxLength"/> UTF-16 code units (never inside a
    /// surrogate pair; at most <see cref="MaxLength"/>); the same instance when it already is.
    /// </summary>
    public static string? Sanitize(string? text, int maxLength)
    {
        var max = Math.Clamp(maxLength, 0, MaxLength);
        if (text is null)
        {
            return null;
        }

        var clean = true;
        for (var i = 0; i < text.Length && clean; i++)
        {
            var c = text[i];
            if (c == '\0')
            {
                clean = false;
            }
            else if (char.IsHighSurrogate(c))
            {
                if (i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
                {
                    i++;
                }
                else
                {
                    clean = false;
                }
            }
            else if (char.IsLowSurrogate(c))
            {
                clean = false;
            }
        }

        if (clean && text.Length <= max)
        {
            return text;
        }

        var builder = new StringBuilder(Math.Min(text.Length, max));
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                if (builder.Length + 2 > max)
                {
                    break;
                }

                builder.Append(c).Append(text[++i]);
                continue;
            }

            if (builder.Length + 1 > max)
            {
                break;
            }

            builder.Append(c == '\0' || char.IsSurrogate(c) ? '\uFFFD' : c);
        }

        return builder.ToString();
    }
}
