using System;
using Microsoft.CodeAnalysis;

namespace Jobs.Sdk.Generators.Shared;

// JSON property names: [JsonPropertyName] or the camelCase CLR name.
internal static partial class JobTypeSupport
{
    /// <summary>The JSON name of a property: <c>[JsonPropertyName]</c> or the camelCase CLR name.</summary>
    public static string JsonName(IPropertySymbol property)
    {
        foreach (var attribute in property.GetAttributes())
        {
            if (attribute.AttributeClass?.ToDisplayString() == KnownNames.JsonPropertyNameAttribute
                && attribute.ConstructorArguments.Length == 1 && attribute.ConstructorArguments[0].Value is string name)
            {
                return name;
            }
        }

        return CamelCase(property.Name);
    }

    /// <summary>camelCase as System.Text.Json's policy does it: lower the leading run of capitals ("URLValue" → "urlValue").</summary>
    public static string CamelCase(string name)
    {
        if (name.Length == 0 || !char.IsUpper(name[0]))
        {
            return name;
        }

        var chars = name.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            if (i == 1 && !char.IsUpper(chars[i]))
            {
                break;
            }

            var hasNext = i + 1 < chars.Length;
            if (i > 0 && hasNext && !char.IsUpper(chars[i + 1]))
            {
                if (chars[i + 1] == ' ')
                {
                    chars[i] = char.ToLowerInvariant(chars[i]);
                }

                break;
            }

            chars[i] = char.ToLowerInvariant(chars[i]);
        }

        return new string(chars);
    }
}
