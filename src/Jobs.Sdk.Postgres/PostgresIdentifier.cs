using System.Text.RegularExpressions;

namespace Jobs.Sdk.Postgres;

/// <summary>Validation and quoting of the few identifiers the driver puts into SQL text (the schema).</summary>
internal static partial class PostgresIdentifier
{
    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]{0,62}$", RegexOptions.CultureInvariant)]
    private static partial Regex IdentifierRegex();

    public static void Validate(string? identifier, string paramName)
    {
        if (identifier is null || !IdentifierRegex().IsMatch(identifier))
        {
            throw new ArgumentException(
                $"'{identifier}' is not a valid schema name for Jobs.Sdk: use 1-63 letters, digits or underscores, not starting with a digit.",
                paramName);
        }
    }

    /// <summary>Quotes a validated identifier (it contains no quotes, so quoting is plain wrapping).</summary>
    public static string Quote(string identifier)
    {
        Validate(identifier, nameof(identifier));
        return "\"" + identifier + "\"";
    }
}
