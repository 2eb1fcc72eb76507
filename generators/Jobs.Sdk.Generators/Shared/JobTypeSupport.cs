using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;

namespace Jobs.Sdk.Generators.Shared;

/// <summary>How the generated serializer handles one type.</summary>
internal enum JsonTypeKind
{
    Unsupported = 0,
    Boolean,
    Byte,
    SByte,
    Int16,
    UInt16,
    Int32,
    UInt32,
    Int64,
    UInt64,
    IntPtr,
    UIntPtr,
    Single,
    Double,
    Decimal,
    Char,
    String,
    Guid,
    DateTime,
    DateTimeOffset,
    DateOnly,
    TimeOnly,
    TimeSpan,
    Uri,
    ByteArray,
    Enum,
    /// <summary><c>Nullable&lt;T&gt;</c>; the element is <c>T</c>.</summary>
    Nullable,
    Array,
    List,
    IList,
    ICollection,
    IReadOnlyList,
    IReadOnlyCollection,
    IEnumerable,
    ImmutableArray,
    HashSet,
    /// <summary><c>Dictionary&lt;string, T&gt;</c>; the element is <c>T</c>.</summary>
    Dictionary,
    IDictionary,
    IReadOnlyDictionary,
    /// <summary>A user class, record or struct serialized member by member.</summary>
    Object,
    /// <summary>Serialized through the <c>JsonSerializerContext</c> named on <c>[Job(JsonContext = ...)]</c>.</summary>
    JsonContext,
}

/// <summary>The shallow classification of a type: its kind and, for wrappers and collections, the element type.</summary>
internal readonly struct JsonTypeShape
{
    public JsonTypeShape(JsonTypeKind kind, ITypeSymbol type, ITypeSymbol? element = null, string? reason = null)
    {
        Kind = kind;
        Type = type;
        Element = element;
        Reason = reason;
    }

    public JsonTypeKind Kind { get; }
    public ITypeSymbol Type { get; }
    public ITypeSymbol? Element { get; }
    /// <summary>Why the type is <see cref="JsonTypeKind.Unsupported"/>, when it is.</summary>
    public string? Reason { get; }

    public bool IsCollection => Kind is >= JsonTypeKind.Array and <= JsonTypeKind.HashSet;
    public bool IsDictionary => Kind is JsonTypeKind.Dictionary or JsonTypeKind.IDictionary or JsonTypeKind.IReadOnlyDictionary;
}

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
    public bool IsInitOnly => Property.SetMethod?.IsInitOnly == true;
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

internal enum JobTypeProblemKind
{
    /// <summary>A member's type is not handled by the generated serializer and no JsonContext is given.</summary>
    UnsupportedType,
    /// <summary>A type contains itself (directly or through other types).</summary>
    Cycle,
    /// <summary>A type has no constructor the generated serializer can call, or its parameters don't match properties.</summary>
    NoUsableConstructor,
    /// <summary>The job type is generic (job types must be closed, non-generic types).</summary>
    GenericJobType,
    /// <summary>Two members of one type map to the same JSON property name.</summary>
    DuplicateJsonName,
    /// <summary>A member carries a System.Text.Json attribute the generated serializer does not honour.</summary>
    UnsupportedAttribute,
}

/// <summary>Why the generated serializer cannot handle a job type.</summary>
internal sealed class JobTypeProblem
{
    public JobTypeProblem(JobTypeProblemKind kind, ISymbol? rootMember, ISymbol? member, string memberPath, ITypeSymbol? type, string reason)
    {
        Kind = kind;
        RootMember = rootMember;
        Member = member;
        MemberPath = memberPath;
        Type = type;
        Reason = reason;
    }

    public JobTypeProblemKind Kind { get; }
    /// <summary>The job type's own member that leads to the problem (report here), when there is one.</summary>
    public ISymbol? RootMember { get; }
    /// <summary>The innermost member whose type is the problem (may belong to a nested type).</summary>
    public ISymbol? Member { get; }
    /// <summary>A readable path from the job type, for example <c>Items[].Sku</c>; empty for the job type itself.</summary>
    public string MemberPath { get; }
    /// <summary>The offending type.</summary>
    public ITypeSymbol? Type { get; }
    /// <summary>A sentence saying what is wrong.</summary>
    public string Reason { get; }
}

/// <summary>
/// What the generated serializer supports. Pure functions over Roslyn symbols, shared by file link with
/// <c>Jobs.Sdk.Analyzers</c> so the generator and the analyzers can never disagree.
/// </summary>
internal static class JobTypeSupport
{
    /// <summary>Classifies <paramref name="type"/> one level deep.</summary>
    /// <param name="type">The type to classify.</param>
    /// <param name="hasJsonContext">Whether the job names a JsonSerializerContext (unsupported types then go through it).</param>
    /// <param name="within">The job type; types nested in it may be private.</param>
    public static JsonTypeShape Classify(ITypeSymbol type, bool hasJsonContext, INamedTypeSymbol? within = null)
    {
        var shape = ClassifyCore(type, within);
        if (shape.Kind == JsonTypeKind.Unsupported && hasJsonContext && type is INamedTypeSymbol or IArrayTypeSymbol)
        {
            return new JsonTypeShape(JsonTypeKind.JsonContext, type);
        }

        return shape;
    }

    private static JsonTypeShape ClassifyCore(ITypeSymbol type, INamedTypeSymbol? within)
    {
        switch (type.SpecialType)
        {
            case SpecialType.System_Boolean: return new(JsonTypeKind.Boolean, type);
            case SpecialType.System_Byte: return new(JsonTypeKind.Byte, type);
            case SpecialType.System_SByte: return new(JsonTypeKind.SByte, type);
            case SpecialType.System_Int16: return new(JsonTypeKind.Int16, type);
            case SpecialType.System_UInt16: return new(JsonTypeKind.UInt16, type);
            case SpecialType.System_Int32: return new(JsonTypeKind.Int32, type);
            case SpecialType.System_UInt32: return new(JsonTypeKind.UInt32, type);
            case SpecialType.System_Int64: return new(JsonTypeKind.Int64, type);
            case SpecialType.System_UInt64: return new(JsonTypeKind.UInt64, type);
            case SpecialType.System_IntPtr: return new(JsonTypeKind.IntPtr, type);
            case SpecialType.System_UIntPtr: return new(JsonTypeKind.UIntPtr, type);
            case SpecialType.System_Single: return new(JsonTypeKind.Single, type);
            case SpecialType.System_Double: return new(JsonTypeKind.Double, type);
            case SpecialType.System_Decimal: return new(JsonTypeKind.Decimal, type);
            case SpecialType.System_Char: return new(JsonTypeKind.Char, type);
            case SpecialType.System_String: return new(JsonTypeKind.String, type);
            case SpecialType.System_DateTime: return new(JsonTypeKind.DateTime, type);
        }

        if (type is IArrayTypeSymbol array)
        {
            if (!array.IsSZArray)
            {
                return Unsupported(type, "multi-dimensional arrays are not supported");
            }

            return array.ElementType.SpecialType == SpecialType.System_Byte
                ? new(JsonTypeKind.ByteArray, type)
                : new(JsonTypeKind.Array, type, array.ElementType);
        }

        if (type is not INamedTypeSymbol named)
        {
            return Unsupported(type, $"'{type.ToDisplayString()}' is not a serializable type");
        }

        if (named.TypeKind == TypeKind.Enum)
        {
            if (!IsAccessible(named, within))
            {
                return Unsupported(type, $"'{type.ToDisplayString()}' is not accessible to generated code");
            }

            return UnsupportedTypeAttribute(named) is { } enumReason ? Unsupported(type, enumReason) : new(JsonTypeKind.Enum, type);
        }

        if (named.OriginalDefinition.SpecialType == SpecialType.System_Nullable_T)
        {
            return new(JsonTypeKind.Nullable, type, named.TypeArguments[0]);
        }

        if (IsInNamespace(named, "System") && named.Arity == 0)
        {
            switch (named.Name)
            {
                case "Guid": return new(JsonTypeKind.Guid, type);
                case "DateTimeOffset": return new(JsonTypeKind.DateTimeOffset, type);
                case "DateOnly": return new(JsonTypeKind.DateOnly, type);
                case "TimeOnly": return new(JsonTypeKind.TimeOnly, type);
                case "TimeSpan": return new(JsonTypeKind.TimeSpan, type);
                case "Uri": return new(JsonTypeKind.Uri, type);
            }
        }

        if (named.IsGenericType)
        {
            var original = named.OriginalDefinition;
            switch (original.SpecialType)
            {
                case SpecialType.System_Collections_Generic_IEnumerable_T: return new(JsonTypeKind.IEnumerable, type, named.TypeArguments[0]);
                case SpecialType.System_Collections_Generic_IList_T: return new(JsonTypeKind.IList, type, named.TypeArguments[0]);
                case SpecialType.System_Collections_Generic_ICollection_T: return new(JsonTypeKind.ICollection, type, named.TypeArguments[0]);
                case SpecialType.System_Collections_Generic_IReadOnlyList_T: return new(JsonTypeKind.IReadOnlyList, type, named.TypeArguments[0]);
                case SpecialType.System_Collections_Generic_IReadOnlyCollection_T: return new(JsonTypeKind.IReadOnlyCollection, type, named.TypeArguments[0]);
            }

            if (IsInNamespace(named, "System", "Collections", "Generic"))
            {
                switch (named.Name)
                {
                    case "List" when named.Arity == 1: return new(JsonTypeKind.List, type, named.TypeArguments[0]);
                    case "HashSet" when named.Arity == 1: return new(JsonTypeKind.HashSet, type, named.TypeArguments[0]);
                    case "Dictionary" when named.Arity == 2: return Dictionary(JsonTypeKind.Dictionary, named);
                    case "IDictionary" when named.Arity == 2: return Dictionary(JsonTypeKind.IDictionary, named);
                    case "IReadOnlyDictionary" when named.Arity == 2: return Dictionary(JsonTypeKind.IReadOnlyDictionary, named);
                }
            }

            if (named.Name == "ImmutableArray" && named.Arity == 1 && IsInNamespace(named, "System", "Collections", "Immutable"))
            {
                return new(JsonTypeKind.ImmutableArray, type, named.TypeArguments[0]);
            }
        }

        if (IsObjectCandidate(named, within, out var reason))
        {
            if (UnsupportedTypeAttribute(named) is { } attributeReason)
            {
                return Unsupported(type, attributeReason);
            }

            if (GetObjectShape(named, out var error) is not { } objectShape)
            {
                return Unsupported(type, error!);
            }

            // A type from another assembly: its get-only properties cannot be told apart from computed ones (JOBS013
            // sees only source), and its private state is invisible. When none of its members is carried but it shows
            // data, it would be written as {} and come back empty.
            if (named.DeclaringSyntaxReferences.Length == 0 && !objectShape.Members.Any(m => m.IsRead || m.IsWritten)
                && objectShape.Unbound.Any(p => GetIgnoreKind(p) != JsonIgnoreKind.Always))
            {
                return Unsupported(type, $"'{type.ToDisplayString()}' comes from another assembly and the generated serializer can carry none of its members " +
                    $"(its public properties, such as '{objectShape.Unbound.First(p => GetIgnoreKind(p) != JsonIgnoreKind.Always).Name}', are get-only and no constructor parameter sets them), so it would be written as {{}}");
            }

            return new(JsonTypeKind.Object, type);
        }

        return Unsupported(type, reason);
    }

    private static JsonTypeShape Dictionary(JsonTypeKind kind, INamedTypeSymbol named)
        => named.TypeArguments[0].SpecialType == SpecialType.System_String
            ? new(kind, named, named.TypeArguments[1])
            : Unsupported(named, "dictionaries must have string keys");

    private static JsonTypeShape Unsupported(ITypeSymbol type, string reason) => new(JsonTypeKind.Unsupported, type, null, reason);

    private static bool IsObjectCandidate(INamedTypeSymbol type, INamedTypeSymbol? within, out string reason)
    {
        var display = type.ToDisplayString();
        if (type.TypeKind is not (TypeKind.Class or TypeKind.Struct))
        {
            reason = $"'{display}' is an {type.TypeKind.ToString().ToLowerInvariant()}, which the generated serializer cannot create";
            return false;
        }

        if (type.SpecialType == SpecialType.System_Object || type.IsAbstract || type.IsStatic || type.IsRefLikeType)
        {
            reason = $"'{display}' is abstract, static, a ref struct or object, which the generated serializer cannot create";
            return false;
        }

        if (type.IsTupleType)
        {
            reason = $"'{display}' is a tuple, which the generated serializer does not support (its element names are not part of the type); use a record";
            return false;
        }

        if (IsFrameworkType(type))
        {
            reason = $"'{display}' is a framework type the generated serializer does not support";
            return false;
        }

        // Serialized member by member, a collection would be written as an object of its settable properties
        // ({"capacity":4} for a List<T> subclass) and lose its elements.
        if (type.AllInterfaces.Any(i => i.SpecialType == SpecialType.System_Collections_IEnumerable))
        {
            reason = $"'{display}' is a collection (it implements IEnumerable), which the generated serializer would write as an object without its elements; declare the member as List<T>, T[] or another supported collection";
            return false;
        }

        // Members inherited from a framework class come from metadata: their state (private fields, get-only
        // properties) is invisible here and would be lost.
        for (var b = type.BaseType; b is not null && b.SpecialType is not (SpecialType.System_Object or SpecialType.System_ValueType); b = b.BaseType)
        {
            if (IsFrameworkType(b))
            {
                reason = $"'{display}' derives from the framework type '{b.ToDisplayString()}', whose state the generated serializer cannot see";
                return false;
            }
        }

        if (type.TypeParameters.Length > 0 && type.TypeArguments.Any(a => a is ITypeParameterSymbol))
        {
            reason = $"'{display}' is an open generic type";
            return false;
        }

        if (!IsAccessible(type, within))
        {
            reason = $"'{display}' is not accessible to generated code (make it internal or public)";
            return false;
        }

        reason = "";
        return true;
    }

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

    private static bool IsStringEnumConverter(AttributeData attribute)
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

    private static bool IsFrameworkType(INamedTypeSymbol type)
    {
        var ns = type.ContainingNamespace;
        while (ns is { IsGlobalNamespace: false, ContainingNamespace.IsGlobalNamespace: false })
        {
            ns = ns.ContainingNamespace;
        }

        return ns is { IsGlobalNamespace: false, Name: "System" or "Microsoft" } && type.DeclaringSyntaxReferences.Length == 0;
    }

    /// <summary>Whether generated code inside <paramref name="within"/> (or at namespace level) can name <paramref name="type"/>.</summary>
    public static bool IsAccessible(INamedTypeSymbol type, INamedTypeSymbol? within)
    {
        for (ISymbol? current = type; current is INamedTypeSymbol t; current = t.ContainingType)
        {
            if (within is not null && SymbolEqualityComparer.Default.Equals(t, within))
            {
                return true;
            }

            if (t.DeclaredAccessibility is Accessibility.Private or Accessibility.Protected or Accessibility.ProtectedAndInternal
                && !(within is not null && IsContainedIn(within, t.ContainingType)))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsContainedIn(INamedTypeSymbol type, INamedTypeSymbol? container)
    {
        for (var t = type; t is not null; t = t.ContainingType)
        {
            if (SymbolEqualityComparer.Default.Equals(t, container))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Whether JSON <c>null</c> is acceptable for a value of this type (annotated or oblivious).</summary>
    public static bool AllowsNull(ITypeSymbol type)
    {
        if (type.IsValueType)
        {
            return type.OriginalDefinition.SpecialType == SpecialType.System_Nullable_T;
        }

        return type.NullableAnnotation != NullableAnnotation.NotAnnotated;
    }

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
            if (property.SetMethod is not { DeclaredAccessibility: Accessibility.Public } || property.IsReadOnly)
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

        error = null;
        return new JobObjectShape(type, constructor, setsRequired, members.ToImmutable(), unbound.ToImmutable());
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

    /// <summary>Whether the type or a type containing it is file-local (<c>file</c>): generated code in another file cannot complete it.</summary>
    public static bool IsFileLocal(INamedTypeSymbol type)
    {
        for (var t = type; t is not null; t = t.ContainingType)
        {
            if (t.IsFileLocal)
            {
                return true;
            }
        }

        return false;
    }

    public static bool HasAttribute(ISymbol symbol, string metadataName)
    {
        foreach (var attribute in symbol.GetAttributes())
        {
            if (attribute.AttributeClass?.ToDisplayString() == metadataName)
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsInNamespace(INamedTypeSymbol type, params string[] parts)
    {
        var ns = type.ContainingNamespace;
        for (var i = parts.Length - 1; i >= 0; i--)
        {
            if (ns is null || ns.IsGlobalNamespace || ns.Name != parts[i])
            {
                return false;
            }

            ns = ns.ContainingNamespace;
        }

        return ns is { IsGlobalNamespace: true };
    }

    /// <summary>
    /// The <c>JsonSerializerContext</c> named by <c>[Job(..., JsonContext = typeof(X))]</c>, or <see langword="null"/> when none is
    /// named or the named type does not derive from <c>System.Text.Json.Serialization.JsonSerializerContext</c>
    /// (the generator then behaves as if none were given).
    /// </summary>
    public static INamedTypeSymbol? GetJsonContext(AttributeData jobAttribute)
    {
        foreach (var named in jobAttribute.NamedArguments)
        {
            if (named.Key == KnownNames.JobAttributeJsonContext && named.Value.Value is INamedTypeSymbol context)
            {
                for (var t = context.BaseType; t is not null; t = t.BaseType)
                {
                    if (t.ToDisplayString() == KnownNames.JsonSerializerContext)
                    {
                        return context;
                    }
                }
            }
        }

        return null;
    }

    /// <summary>
    /// Walks the job type and every type reachable through its members; returns the first problem that stops the
    /// generator from emitting a serializer, or <see langword="null"/> when the whole graph is supported.
    /// </summary>
    public static JobTypeProblem? FindProblem(INamedTypeSymbol jobType, bool hasJsonContext)
    {
        if (jobType.IsGenericType)
        {
            return new JobTypeProblem(JobTypeProblemKind.GenericJobType, null, null, "", jobType,
                $"job type '{jobType.ToDisplayString()}' is generic; job types must be non-generic");
        }

        var shape = GetObjectShape(jobType, out var error);
        if (shape is null)
        {
            return new JobTypeProblem(JobTypeProblemKind.NoUsableConstructor, null, null, "", jobType, error!);
        }

        if (UnsupportedTypeAttribute(jobType) is { } attributeReason)
        {
            return new JobTypeProblem(JobTypeProblemKind.UnsupportedType, null, null, "", jobType, attributeReason);
        }

        var stack = new List<INamedTypeSymbol> { jobType };
        return CheckMembers(shape, jobType, hasJsonContext, stack, null, "");
    }

    private static JobTypeProblem? CheckMembers(JobObjectShape shape, INamedTypeSymbol job, bool hasJsonContext, List<INamedTypeSymbol> stack,
        ISymbol? rootMember, string path)
    {
        if (shape.FindDuplicateJsonName() is { } duplicate)
        {
            var second = (ISymbol?)duplicate.Second.Parameter ?? duplicate.Second.Property;
            return new JobTypeProblem(JobTypeProblemKind.DuplicateJsonName, rootMember ?? duplicate.Second.Property, second,
                path.Length == 0 ? duplicate.Second.Name : path + "." + duplicate.Second.Name, shape.Type,
                $"'{duplicate.First.Name}' and '{duplicate.Second.Name}' of '{shape.Type.ToDisplayString()}' both map to the JSON property '{duplicate.Second.JsonName}'");
        }

        if (FindUnsupportedMemberAttribute(shape) is { } unsupported)
        {
            return new JobTypeProblem(JobTypeProblemKind.UnsupportedAttribute, rootMember ?? unsupported.Member, unsupported.Member,
                path.Length == 0 ? unsupported.Member.Name : path + "." + unsupported.Member.Name, shape.Type, unsupported.Reason);
        }

        foreach (var member in shape.Members)
        {
            var memberSymbol = (ISymbol?)member.Parameter ?? member.Property;
            var root = rootMember ?? member.Property;
            var memberPath = path.Length == 0 ? member.Name : path + "." + member.Name;
            var problem = CheckType(member.Type, job, hasJsonContext, stack, root, memberSymbol, memberPath);
            if (problem is not null)
            {
                return problem;
            }
        }

        return null;
    }

    private static JobTypeProblem? CheckType(ITypeSymbol type, INamedTypeSymbol job, bool hasJsonContext, List<INamedTypeSymbol> stack,
        ISymbol root, ISymbol member, string path)
    {
        var shape = Classify(type, hasJsonContext, job);
        switch (shape.Kind)
        {
            case JsonTypeKind.Unsupported:
                return new JobTypeProblem(JobTypeProblemKind.UnsupportedType, root, member, path, type,
                    shape.Reason + "; use a supported type or name a JsonSerializerContext with [Job(..., JsonContext = typeof(...))]");
            case JsonTypeKind.Nullable:
                return CheckType(shape.Element!, job, hasJsonContext, stack, root, member, path);
            case JsonTypeKind.Object:
                var named = (INamedTypeSymbol)type;
                if (stack.Any(s => SymbolEqualityComparer.Default.Equals(s, named)))
                {
                    return new JobTypeProblem(JobTypeProblemKind.Cycle, root, member, path, type,
                        $"'{named.ToDisplayString()}' contains itself through '{path}'; the generated serializer does not support cycles");
                }

                var objectShape = GetObjectShape(named, out var error);
                if (objectShape is null)
                {
                    return new JobTypeProblem(JobTypeProblemKind.NoUsableConstructor, root, member, path, type, error!);
                }

                stack.Add(named);
                var problem = CheckMembers(objectShape, job, hasJsonContext, stack, root, path);
                stack.RemoveAt(stack.Count - 1);
                return problem;
            default:
                if (shape.Element is not null)
                {
                    return CheckType(shape.Element, job, hasJsonContext, stack, root, member, path + (shape.IsDictionary ? "{}" : "[]"));
                }

                return null;
        }
    }

    /// <summary>
    /// Members of the job type and of every object type it contains that hold data the generated serializer does not
    /// carry: public properties with a non-public setter, get-only auto-properties no constructor parameter sets, and
    /// public instance fields (System.Text.Json needs <c>[JsonInclude]</c> or <c>IncludeFields</c> for those; this
    /// serializer does not support them). Members marked <c>[JsonIgnore]</c> are skipped.
    /// </summary>
    public static List<(ISymbol Member, string Reason)> FindUnserializedMembers(INamedTypeSymbol jobType, bool hasJsonContext)
    {
        var result = new List<(ISymbol, string)>();
        var visited = new HashSet<INamedTypeSymbol>(SymbolEqualityComparer.Default);
        Visit(jobType);
        return result;

        void Visit(INamedTypeSymbol type)
        {
            if (!visited.Add(type) || GetObjectShape(type, out _) is not { } shape)
            {
                return;
            }

            foreach (var property in shape.Unbound)
            {
                if (GetIgnoreKind(property) == JsonIgnoreKind.Always)
                {
                    continue;
                }

                if (property.SetMethod is not null)
                {
                    result.Add((property, "its setter is not public, so it is not read back from the payload"));
                }
                else if (IsAutoProperty(property))
                {
                    result.Add((property, "it is get-only and no constructor parameter sets it, so it is not serialized"));
                }
            }

            for (var t = type; t is not null && t.SpecialType is not (SpecialType.System_Object or SpecialType.System_ValueType); t = t.BaseType)
            {
                foreach (var member in t.GetMembers())
                {
                    if (member is IFieldSymbol { IsStatic: false, IsConst: false, IsImplicitlyDeclared: false, DeclaredAccessibility: Accessibility.Public } field
                        && GetIgnoreKind(field) != JsonIgnoreKind.Always)
                    {
                        result.Add((field, "public fields are not serialized (make it a property with a public setter or a constructor parameter)"));
                    }
                }
            }

            foreach (var (member, kind) in FindHiddenState(shape))
            {
                var accessibility = member.DeclaredAccessibility switch
                {
                    Accessibility.Private => "a private",
                    Accessibility.Internal => "an internal",
                    Accessibility.Protected => "a protected",
                    Accessibility.ProtectedOrInternal => "a protected internal",
                    _ => "a private protected",
                };
                result.Add((member, $"it is {accessibility} {kind}, and the payload carries only constructor parameters and public settable properties"));
            }

            foreach (var member in shape.Members)
            {
                VisitType(member.Type);
            }
        }

        void VisitType(ITypeSymbol type)
        {
            var classified = Classify(type, hasJsonContext, jobType);
            if (classified.Kind == JsonTypeKind.Object)
            {
                Visit((INamedTypeSymbol)type);
            }
            else if (classified.Element is not null)
            {
                VisitType(classified.Element);
            }
        }
    }

    /// <summary>
    /// Non-public instance state of an object type declared in source (the type and its base types): fields and
    /// auto-properties the generated serializer never writes, so a worker gets what the constructor leaves in them.
    /// Not state: static and const members, compiler-generated fields (backing fields of auto-properties and
    /// field-like events, captured primary-constructor parameters), computed properties, the record's EqualityContract,
    /// fields that back a carried property (used in its accessors), members marked <c>[JsonIgnore]</c>, and read-only
    /// fields and get-only auto-properties whose initializer alone sets them (recomputed from the carried members on read).
    /// </summary>
    private static IEnumerable<(ISymbol Member, string Kind)> FindHiddenState(JobObjectShape shape)
    {
        var accessorFields = new HashSet<string>(StringComparer.Ordinal);
        foreach (var carried in shape.Members.Select(m => m.Property).Concat(shape.Unbound.Where(p => p.SetMethod is not null)))
        {
            foreach (var accessor in new[] { carried.GetMethod, carried.SetMethod })
            {
                foreach (var reference in accessor?.DeclaringSyntaxReferences ?? ImmutableArray<SyntaxReference>.Empty)
                {
                    foreach (var name in reference.GetSyntax().DescendantNodesAndSelf().OfType<Microsoft.CodeAnalysis.CSharp.Syntax.IdentifierNameSyntax>())
                    {
                        accessorFields.Add(name.Identifier.ValueText);
                    }
                }
            }

            // An expression-bodied property (public int X => _x;) has no accessor syntax of its own.
            foreach (var reference in carried.DeclaringSyntaxReferences)
            {
                if (reference.GetSyntax() is Microsoft.CodeAnalysis.CSharp.Syntax.PropertyDeclarationSyntax { ExpressionBody: { } body })
                {
                    foreach (var name in body.DescendantNodesAndSelf().OfType<Microsoft.CodeAnalysis.CSharp.Syntax.IdentifierNameSyntax>())
                    {
                        accessorFields.Add(name.Identifier.ValueText);
                    }
                }
            }
        }

        var known = new HashSet<string>(shape.Members.Select(m => m.Name).Concat(shape.Unbound.Select(p => p.Name)), StringComparer.Ordinal);
        for (var t = shape.Type; t is not null && t.SpecialType is not (SpecialType.System_Object or SpecialType.System_ValueType); t = t.BaseType)
        {
            if (t.DeclaringSyntaxReferences.Length == 0)
            {
                continue;
            }

            foreach (var member in t.GetMembers())
            {
                if (member.IsStatic || member.IsImplicitlyDeclared || member.DeclaredAccessibility == Accessibility.Public
                    || GetIgnoreKind(member) == JsonIgnoreKind.Always)
                {
                    continue;
                }

                if (member is IFieldSymbol { IsConst: false, AssociatedSymbol: null } field)
                {
                    if (!accessorFields.Contains(field.Name) && !(field.IsReadOnly && IsSetOnlyByInitializer(field, t)))
                    {
                        yield return (field, "field");
                    }
                }
                else if (member is IPropertySymbol { IsIndexer: false } property && property.Name != "EqualityContract" && !known.Contains(property.Name)
                    && IsAutoProperty(property) && !(property.SetMethod is null && IsSetOnlyByInitializer(property, t)))
                {
                    yield return (property, "auto-property");
                }
            }
        }
    }

    /// <summary>Whether a read-only field or get-only auto-property has an initializer and no constructor of its type assigns it.</summary>
    private static bool IsSetOnlyByInitializer(ISymbol member, INamedTypeSymbol type)
    {
        var hasInitializer = false;
        foreach (var reference in member.DeclaringSyntaxReferences)
        {
            hasInitializer |= reference.GetSyntax() switch
            {
                Microsoft.CodeAnalysis.CSharp.Syntax.VariableDeclaratorSyntax { Initializer: not null } => true,
                Microsoft.CodeAnalysis.CSharp.Syntax.PropertyDeclarationSyntax { Initializer: not null } => true,
                _ => false,
            };
        }

        if (!hasInitializer)
        {
            return false;
        }

        foreach (var reference in type.DeclaringSyntaxReferences)
        {
            foreach (var constructor in reference.GetSyntax().ChildNodes().OfType<Microsoft.CodeAnalysis.CSharp.Syntax.ConstructorDeclarationSyntax>())
            {
                foreach (var assignment in constructor.DescendantNodes().OfType<Microsoft.CodeAnalysis.CSharp.Syntax.AssignmentExpressionSyntax>())
                {
                    var target = assignment.Left is Microsoft.CodeAnalysis.CSharp.Syntax.MemberAccessExpressionSyntax access ? access.Name : assignment.Left;
                    if (target is Microsoft.CodeAnalysis.CSharp.Syntax.IdentifierNameSyntax name && name.Identifier.ValueText == member.Name)
                    {
                        return false;
                    }
                }
            }
        }

        return true;
    }

    private static bool IsAutoProperty(IPropertySymbol property)
    {
        foreach (var reference in property.DeclaringSyntaxReferences)
        {
            if (reference.GetSyntax() is Microsoft.CodeAnalysis.CSharp.Syntax.PropertyDeclarationSyntax { ExpressionBody: null, AccessorList: { } accessors }
                && accessors.Accessors.All(a => a.Body is null && a.ExpressionBody is null))
            {
                return true;
            }
        }

        return false;
    }
}
