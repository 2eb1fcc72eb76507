using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;

namespace Jobs.Sdk.Generators.Shared;

// How an object type is built and which members it carries: its constructor, its members, their [JsonIgnore] conditions.
internal static partial class JobTypeSupport
{
    /// <summary>
    /// Finds the constructor and members of an object type the way the generated serializer uses them:
    /// <c>[JsonConstructor]</c>, else the single public constructor (ignoring a struct's implicit one), else the public
    /// parameterless constructor. Constructor parameters bind to public properties by name (case-insensitive); other
    /// properties are serialized when they have a public getter and a public <c>set</c> or <c>init</c> accessor.
    /// </summary>
    public static JobObjectShape? GetObjectShape(INamedTypeSymbol type, out string? error)
    {
        var properties = new List<IPropertySymbol>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var chain = new List<INamedTypeSymbol>();
        for (var t = type; t is not null && t.SpecialType is not (SpecialType.System_Object or SpecialType.System_ValueType); t = t.BaseType)
        {
            chain.Add(t);
        }

        // Most derived first for de-duplication (an override or 'new' hides the base property), then reorder base-first.
        var byLevel = new List<List<IPropertySymbol>>();
        foreach (var t in chain)
        {
            var level = new List<IPropertySymbol>();
            foreach (var member in t.GetMembers())
            {
                if (member is IPropertySymbol { IsStatic: false, IsIndexer: false, DeclaredAccessibility: Accessibility.Public } p
                    && p.GetMethod is { DeclaredAccessibility: Accessibility.Public }
                    && p.Name != "EqualityContract"
                    && seen.Add(p.Name))
                {
                    level.Add(p);
                }
            }

            byLevel.Add(level);
        }

        for (var i = byLevel.Count - 1; i >= 0; i--)
        {
            properties.AddRange(byLevel[i]);
        }

        var constructor = ChooseConstructor(type);
        if (constructor is null && type.TypeKind != TypeKind.Struct)
        {
            error = $"'{type.ToDisplayString()}' has no public constructor the generated serializer can use (add a public parameterless or a single public constructor, or mark one [JsonConstructor])";
            return null;
        }

        var setsRequired = constructor is not null && HasAttribute(constructor, KnownNames.SetsRequiredMembersAttribute);
        var members = ImmutableArray.CreateBuilder<JobMemberShape>();
        var bound = new HashSet<string>(StringComparer.Ordinal);
        if (constructor is not null)
        {
            foreach (var parameter in constructor.Parameters)
            {
                var property = properties.FirstOrDefault(p => string.Equals(p.Name, parameter.Name, StringComparison.Ordinal))
                    ?? properties.FirstOrDefault(p => string.Equals(p.Name, parameter.Name, StringComparison.OrdinalIgnoreCase));
                if (property is null)
                {
                    error = $"constructor parameter '{parameter.Name}' of '{type.ToDisplayString()}' has no public property of the same name to serialize it from";
                    return null;
                }

                if (parameter.RefKind != RefKind.None)
                {
                    error = $"constructor parameter '{parameter.Name}' of '{type.ToDisplayString()}' is passed by reference";
                    return null;
                }

                if (!SymbolEqualityComparer.Default.Equals(parameter.Type, property.Type))
                {
                    error = $"constructor parameter '{parameter.Name}' of '{type.ToDisplayString()}' is a '{parameter.Type.ToDisplayString()}' but binds to property '{property.Name}' of type '{property.Type.ToDisplayString()}'; as with System.Text.Json, the types must be the same";
                    return null;
                }

                bound.Add(property.Name);
                var allowsNull = AllowsNull(parameter.Type);
                var ignore = GetIgnoreKind(property);
                members.Add(new JobMemberShape(property.Name, JsonName(property), parameter.Type, property, parameter,
                    isRequired: ((!parameter.HasExplicitDefaultValue && !allowsNull) || HasAttribute(property, KnownNames.JsonRequiredAttribute)) && ignore == JsonIgnoreKind.None,
                    allowsNull, ignore));
            }
        }

        var unbound = ImmutableArray.CreateBuilder<IPropertySymbol>();
        foreach (var property in properties)
        {
            if (bound.Contains(property.Name))
            {
                continue;
            }

            var ignore = GetIgnoreKind(property);
            if (SetterOf(property) is not { DeclaredAccessibility: Accessibility.Public })
            {
                unbound.Add(property);
                continue;
            }

            if (ignore == JsonIgnoreKind.Always && !property.IsRequired)
            {
                continue;
            }

            if (property.IsRequired)
            {
                ignore = JsonIgnoreKind.None;
            }

            members.Add(new JobMemberShape(property.Name, JsonName(property), property.Type, property, null,
                isRequired: (property.IsRequired && !setsRequired) || (HasAttribute(property, KnownNames.JsonRequiredAttribute) && ignore is JsonIgnoreKind.None),
                AllowsNull(property.Type), ignore));
        }

        // The reader sets required members in its object initializer, so each must be a carried property: a required
        // field, or a required property without a public getter, would make the generated code fail to compile (CS9035).
        if (!setsRequired && FindUncarriedRequiredMember(chain, members) is { } uncarried)
        {
            error = $"required member '{uncarried.ContainingType.Name}.{uncarried.Name}' of '{type.ToDisplayString()}' is not carried by the generated serializer, which must set every required member when it creates the object; " +
                "make it a property with a public get and a public init or set, or give the type a [SetsRequiredMembers] constructor";
            return null;
        }

        error = null;
        return new JobObjectShape(type, constructor, setsRequired, members.ToImmutable(), unbound.ToImmutable());
    }

    /// <summary>The first required field or property of the type or its bases that is not among the carried members.</summary>
    private static ISymbol? FindUncarriedRequiredMember(List<INamedTypeSymbol> chain, ImmutableArray<JobMemberShape>.Builder members)
    {
        var carried = new HashSet<string>(members.Select(m => m.Name), StringComparer.Ordinal);
        foreach (var t in chain)
        {
            foreach (var member in t.GetMembers())
            {
                if (member is IFieldSymbol { IsRequired: true } or IPropertySymbol { IsRequired: true } && !carried.Contains(member.Name))
                {
                    return member;
                }
            }
        }

        return null;
    }

    private static IMethodSymbol? ChooseConstructor(INamedTypeSymbol type)
    {
        var candidates = type.InstanceConstructors.Where(c => c.DeclaredAccessibility is Accessibility.Public or Accessibility.Internal).ToList();
        var marked = candidates.FirstOrDefault(c => HasAttribute(c, KnownNames.JsonConstructorAttribute));
        if (marked is not null)
        {
            return marked;
        }

        var publicCtors = candidates.Where(c => c.DeclaredAccessibility == Accessibility.Public).ToList();
        var explicitCtors = publicCtors.Where(c => !(type.IsValueType && c.Parameters.Length == 0 && c.IsImplicitlyDeclared)).ToList();
        if (explicitCtors.Count == 1)
        {
            return explicitCtors[0];
        }

        return publicCtors.FirstOrDefault(c => c.Parameters.Length == 0);
    }

    /// <summary>The <c>[JsonIgnore]</c> condition on a property or field (<see cref="JsonIgnoreKind.None"/> without the attribute).</summary>
    public static JsonIgnoreKind GetIgnoreKind(ISymbol member)
    {
        foreach (var attribute in member.GetAttributes())
        {
            if (attribute.AttributeClass?.ToDisplayString() != KnownNames.JsonIgnoreAttribute)
            {
                continue;
            }

            foreach (var named in attribute.NamedArguments)
            {
                if (named.Key == "Condition" && named.Value.Value is int condition)
                {
                    return condition is >= 0 and <= 5 ? (JsonIgnoreKind)condition : JsonIgnoreKind.Always;
                }
            }

            return JsonIgnoreKind.Always;
        }

        return JsonIgnoreKind.None;
    }
}
