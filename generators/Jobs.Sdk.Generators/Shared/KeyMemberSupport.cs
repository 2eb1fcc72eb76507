using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;

namespace Jobs.Sdk.Generators.Shared;

/// <summary>
/// Key members (<c>[UniqueKey]</c>): which members of a job type are marked, and how generated code turns each supported
/// type into key text (through <c>Jobs.Sdk.Infrastructure.JobKeyText</c>). Shared by file link with the analyzers, which
/// report marked members of unsupported types.
/// </summary>
internal static class KeyMemberSupport
{
    private const string KeyText = "global::Jobs.Sdk.Infrastructure.JobKeyText";

    /// <summary>The members of <paramref name="type"/> (its own, then inherited ones) marked with the attribute named <paramref name="attributeName"/>, in declaration order.</summary>
    public static IReadOnlyList<(ISymbol Member, ITypeSymbol Type, Location? Location)> FindMarked(INamedTypeSymbol type, string attributeName)
    {
        var result = new List<(ISymbol, ITypeSymbol, Location?)>();
        var seen = new HashSet<string>();
        var members = type.GetMembers();

        // A marked constructor parameter marks the member it initializes: the one of its name, else (as the serializer
        // and System.Text.Json bind them) the property whose name matches ignoring case ('tenant' marks 'Tenant').
        var marked = new HashSet<string>();
        foreach (var parameter in type.InstanceConstructors.SelectMany(c => c.Parameters).Where(p => Has(p, attributeName)))
        {
            var target = members.FirstOrDefault(m => m.Name == parameter.Name)
                ?? members.FirstOrDefault(m => m is IPropertySymbol && string.Equals(m.Name, parameter.Name, System.StringComparison.OrdinalIgnoreCase));
            marked.Add(target?.Name ?? parameter.Name);
        }

        // The type's own members first, then those it inherits (a base record shared by a tenant's jobs marks its
        // Tenant once); a member hidden or overridden by a more derived one of the same name counts once. An inherited
        // member has no location in the job's declaration: diagnostics about it go on the [Job] attribute.
        var derivedNames = new HashSet<string>();
        for (var t = type; t is not null && t.SpecialType is not (SpecialType.System_Object or SpecialType.System_ValueType); t = t.BaseType)
        {
            var levelNames = new List<string>();
            foreach (var member in SymbolEqualityComparer.Default.Equals(t, type) ? members : t.GetMembers())
            {
                levelNames.Add(member.Name);
                if (derivedNames.Contains(member.Name))
                {
                    continue;
                }

                var memberType = member switch
                {
                    IPropertySymbol { IsStatic: false, IsIndexer: false } p => p.Type,
                    IFieldSymbol { IsStatic: false, IsImplicitlyDeclared: false } f => f.Type,
                    _ => null,
                };
                if (memberType is null || !(Has(member, attributeName) || (marked.Contains(member.Name) && SymbolEqualityComparer.Default.Equals(t, type)))
                    || !seen.Add(member.Name))
                {
                    continue;
                }

                result.Add((member, memberType, SymbolEqualityComparer.Default.Equals(t, type) ? member.Locations.FirstOrDefault() : null));
            }

            derivedNames.UnionWith(levelNames);
        }

        return result;
    }

    /// <summary>C# code turning <paramref name="value"/> (of <paramref name="type"/>) into key text, or <see langword="null"/> when unsupported.</summary>
    public static string? Conversion(ITypeSymbol type, string value)
    {
        if (type is INamedTypeSymbol { OriginalDefinition.SpecialType: SpecialType.System_Nullable_T } nullable)
        {
            var inner = Conversion(nullable.TypeArguments[0], "v");
            return inner is null ? null : $"{KeyText}.Of({value}, static v => {inner})";
        }

        if (type.TypeKind == TypeKind.Enum && type is INamedTypeSymbol { EnumUnderlyingType: { } underlying })
        {
            return underlying.SpecialType is SpecialType.System_UInt64 or SpecialType.System_UInt32 or SpecialType.System_UInt16 or SpecialType.System_Byte
                ? $"{KeyText}.Of((ulong){value})"
                : $"{KeyText}.Of((long){value})";
        }

        switch (type.SpecialType)
        {
            case SpecialType.System_String:
            case SpecialType.System_Boolean:
            case SpecialType.System_Char:
            case SpecialType.System_DateTime:
                return $"{KeyText}.Of({value})";
            case SpecialType.System_SByte:
            case SpecialType.System_Int16:
            case SpecialType.System_Int32:
            case SpecialType.System_Int64:
                return $"{KeyText}.Of((long){value})";
            case SpecialType.System_Byte:
            case SpecialType.System_UInt16:
            case SpecialType.System_UInt32:
            case SpecialType.System_UInt64:
                return $"{KeyText}.Of((ulong){value})";
        }

        var name = type.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat);
        return name is "global::System.Guid" or "global::System.DateTimeOffset" or "global::System.DateOnly" or "global::System.TimeOnly"
            ? $"{KeyText}.Of({value})"
            : null;
    }

    private static bool Has(ISymbol symbol, string attributeName)
        => symbol.GetAttributes().Any(a => a.AttributeClass?.ToDisplayString() == attributeName);
}
