using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using Microsoft.CodeAnalysis;

namespace Jobs.Sdk.Generators.Shared;

/// <summary>One serialized member of an object: a constructor parameter and/or a public property.</summary>
internal sealed class JobMemberShape
{
    public JobMemberShape(string name, string jsonName, ITypeSymbol type, IPropertySymbol property, IParameterSymbol? parameter,
        bool isRequired, bool allowsNull, JsonIgnoreKind ignore = JsonIgnoreKind.None)
    {
        Ignore = ignore;
        Name = name;
        JsonName = jsonName;
        Type = type;
        Property = property;
        Parameter = parameter;
        IsRequired = isRequired;
        AllowsNull = allowsNull;
    }

    /// <summary>The CLR member name (the property's).</summary>
    public string Name { get; }
    /// <summary>The JSON property name (camelCase unless <c>[JsonPropertyName]</c>).</summary>
    public string JsonName { get; }
    /// <summary>The member type (the constructor parameter's type when bound to one).</summary>
    public ITypeSymbol Type { get; }
    /// <summary>The property read when serializing.</summary>
    public IPropertySymbol Property { get; }
    /// <summary>The constructor parameter the member is read into, or <see langword="null"/> for a property set after construction.</summary>
    public IParameterSymbol? Parameter { get; }
    /// <summary>Missing from the payload is an error (non-nullable constructor parameter without default, or a <c>required</c> property).</summary>
    public bool IsRequired { get; }
    /// <summary>JSON <c>null</c> is allowed (nullable value type or nullable/oblivious reference type).</summary>
    public bool AllowsNull { get; }
    /// <summary>The property is a <c>required</c> member that must be set in the object initializer.</summary>
    public bool IsRequiredProperty => Parameter is null && Property.IsRequired;
    /// <summary>The property has an <c>init</c> accessor (not <c>set</c>).</summary>
    public bool IsInitOnly => JobTypeSupport.SetterOf(Property)?.IsInitOnly == true;
    /// <summary>The property's <c>[JsonIgnore]</c> condition, if any.</summary>
    public JsonIgnoreKind Ignore { get; }
    /// <summary>Written to the payload (always or conditionally).</summary>
    public bool IsWritten => Ignore is not (JsonIgnoreKind.Always or JsonIgnoreKind.WhenWriting);
    /// <summary>Read from the payload.</summary>
    public bool IsRead => Ignore is not (JsonIgnoreKind.Always or JsonIgnoreKind.WhenReading);
}

/// <summary>System.Text.Json's <c>JsonIgnoreCondition</c> values (same numbers), plus <see cref="None"/> for no attribute.</summary>
internal enum JsonIgnoreKind
{
    /// <summary>No <c>[JsonIgnore]</c>, or <c>Condition = Never</c>.</summary>
    None = 0,
    Always = 1,
    WhenWritingDefault = 2,
    WhenWritingNull = 3,
    WhenWriting = 4,
    WhenReading = 5,
}

/// <summary>How an object is built and which members it has.</summary>
internal sealed class JobObjectShape
{
    public JobObjectShape(INamedTypeSymbol type, IMethodSymbol? constructor, bool constructorSetsRequiredMembers, ImmutableArray<JobMemberShape> members,
        ImmutableArray<IPropertySymbol> unbound)
    {
        Unbound = unbound;
        Type = type;
        Constructor = constructor;
        ConstructorSetsRequiredMembers = constructorSetsRequiredMembers;
        Members = members;
    }

    public INamedTypeSymbol Type { get; }
    /// <summary>The constructor used to create instances; <see langword="null"/> means the implicit struct default.</summary>
    public IMethodSymbol? Constructor { get; }
    public bool ConstructorSetsRequiredMembers { get; }
    /// <summary>Constructor parameters first (in order), then settable properties (base types first, declaration order).</summary>
    public ImmutableArray<JobMemberShape> Members { get; }
    /// <summary>Public readable properties that are neither constructor parameters nor publicly settable (not serialized).</summary>
    public ImmutableArray<IPropertySymbol> Unbound { get; }

    /// <summary>The first member whose JSON name another (earlier) member already uses, or <see langword="null"/>.</summary>
    public (JobMemberShape First, JobMemberShape Second)? FindDuplicateJsonName()
    {
        var seen = new Dictionary<string, JobMemberShape>(StringComparer.Ordinal);
        foreach (var member in Members)
        {
            if (!member.IsRead && !member.IsWritten)
            {
                continue;
            }

            if (seen.TryGetValue(member.JsonName, out var first))
            {
                return (first, member);
            }

            seen.Add(member.JsonName, member);
        }

        return null;
    }
}
