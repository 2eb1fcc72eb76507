using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;

namespace Jobs.Sdk.Generators.Shared;

// System.Text.Json attributes on object and enum types and their members that the generated serializer does not honour.
internal static partial class JobTypeSupport
{
    /// <summary>
    /// Why a System.Text.Json attribute on an object or enum type changes its JSON in a way the generated serializer
    /// does not follow, or <see langword="null"/>. (A <c>JsonSerializerContext</c> honours these, so with one named the
    /// type goes through it.)
    /// </summary>
    public static string? UnsupportedTypeAttribute(INamedTypeSymbol type)
    {
        var display = type.ToDisplayString();
        foreach (var attribute in type.GetAttributes())
        {
            switch (attribute.AttributeClass?.ToDisplayString())
            {
                case KnownNames.JsonConverterAttribute when !(type.TypeKind == TypeKind.Enum && IsStringEnumConverter(attribute)):
                    return $"'{display}' has [JsonConverter], which the generated serializer does not run (it would write the type member by member)";
                case KnownNames.JsonPolymorphicAttribute or KnownNames.JsonDerivedTypeAttribute:
                    return $"'{display}' has [JsonPolymorphic] or [JsonDerivedType], but the generated serializer writes only the declared type's members (a derived instance would lose its own)";
                case KnownNames.JsonNumberHandlingAttribute:
                    return $"'{display}' has [JsonNumberHandling], which the generated serializer does not apply (it writes numbers as JSON numbers)";
            }
        }

        if (type.TypeKind == TypeKind.Enum
            && type.GetMembers().OfType<IFieldSymbol>().Any(f => HasAttribute(f, KnownNames.JsonStringEnumMemberNameAttribute)))
        {
            return $"'{display}' has members with [JsonStringEnumMemberName], but the generated serializer writes enum members by their C# names";
        }

        return null;
    }

    internal static bool IsStringEnumConverter(AttributeData attribute)
        => attribute.ConstructorArguments.Length == 1 && attribute.ConstructorArguments[0].Value is INamedTypeSymbol converter
            && converter.OriginalDefinition.ToDisplayString() is KnownNames.JsonStringEnumConverter or KnownNames.JsonStringEnumConverter + "<TEnum>";

    /// <summary>
    /// The first member of <paramref name="shape"/>'s type with a System.Text.Json attribute the generated serializer
    /// would silently not honour: <c>[JsonConverter]</c>, <c>[JsonNumberHandling]</c> or <c>[JsonExtensionData]</c> on a
    /// carried member, <c>[JsonInclude]</c> on a property or field it does not carry.
    /// </summary>
    private static (ISymbol Member, string Reason)? FindUnsupportedMemberAttribute(JobObjectShape shape)
    {
        foreach (var member in shape.Members)
        {
            if (!member.IsRead && !member.IsWritten)
            {
                continue;
            }

            var label = member.Property.ContainingType.Name + "." + member.Name;
            foreach (var attribute in member.Property.GetAttributes())
            {
                switch (attribute.AttributeClass?.ToDisplayString())
                {
                    case KnownNames.JsonConverterAttribute:
                        return (member.Property, $"[JsonConverter] on '{label}' is not applied by the generated serializer, which would write the member its own way; remove the attribute, or put the converter on a type of your own and name a JsonSerializerContext with [Job(..., JsonContext = typeof(...))]");
                    case KnownNames.JsonNumberHandlingAttribute:
                        return (member.Property, $"[JsonNumberHandling] on '{label}' is not applied by the generated serializer, which writes numbers as JSON numbers; remove the attribute");
                    case KnownNames.JsonExtensionDataAttribute:
                        return (member.Property, $"[JsonExtensionData] on '{label}' is not applied by the generated serializer, which would write it as one nested property and skip unknown members on read; remove the attribute");
                }
            }
        }

        var carried = new HashSet<string>(shape.Members.Select(m => m.Name), StringComparer.Ordinal);
        for (var t = shape.Type; t is not null && t.SpecialType is not (SpecialType.System_Object or SpecialType.System_ValueType); t = t.BaseType)
        {
            foreach (var member in t.GetMembers())
            {
                if (member is (IPropertySymbol or IFieldSymbol) and { IsStatic: false } && !carried.Contains(member.Name)
                    && HasAttribute(member, KnownNames.JsonIncludeAttribute) && GetIgnoreKind(member) != JsonIgnoreKind.Always)
                {
                    return (member, $"[JsonInclude] on '{t.Name}.{member.Name}' is not applied by the generated serializer, which carries only constructor parameters and properties with a public set or init accessor; make the member settable or a constructor parameter");
                }
            }
        }

        return null;
    }
}
