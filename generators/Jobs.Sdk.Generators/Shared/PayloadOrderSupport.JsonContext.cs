using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;

namespace Jobs.Sdk.Generators.Shared;

// A value the job's JsonSerializerContext writes (a type the generated writer does not handle) is written by
// System.Text.Json, which sorts nothing: every dictionary and set in it is written in the order it was filled in. The walk
// follows what System.Text.Json writes (public instance properties with a getter, fields where [JsonInclude] or the
// context's IncludeFields says so, minus [JsonIgnore]) and reports the first dictionary or set on the way, or the first
// thing it cannot judge (object, interfaces, converters, polymorphism, framework types it does not know). A value with
// neither, a record of strings and numbers, has one written form per content and is not reported.
internal static partial class PayloadOrderSupport
{
    /// <summary>How many types deep the walk follows a context-written value before it reports it unjudged.</summary>
    internal const int MaxContextDepth = 32;

    private const string ContextOrder = "and the job's JsonSerializerContext writes dictionaries and sets in the order they were filled in";

    private static (string Path, string Reason)? FindInContext(ITypeSymbol type, string path, Walk walk, int depth)
    {
        if (depth > MaxContextDepth)
        {
            return (path, "it is nested more than " + MaxContextDepth + " types deep in what the job's JsonSerializerContext writes, where this check stops following it");
        }

        if (type is IArrayTypeSymbol array)
        {
            return !array.IsSZArray ? Unjudged(path, type, "which this check cannot follow")
                : array.ElementType.SpecialType == SpecialType.System_Byte ? null // base64
                : FindInContext(array.ElementType, path + "[]", walk, depth + 1);
        }

        if (type is not INamedTypeSymbol named)
        {
            return Unjudged(path, type, "which this check cannot follow");
        }

        if (named.SpecialType == SpecialType.System_Object)
        {
            return Unjudged(path, type, "which is written as whatever type the value has at run time");
        }

        if (named.OriginalDefinition.SpecialType == SpecialType.System_Nullable_T)
        {
            return FindInContext(named.TypeArguments[0], path, walk, depth);
        }

        foreach (var attribute in named.GetAttributes())
        {
            switch (attribute.AttributeClass?.ToDisplayString())
            {
                case KnownNames.JsonConverterAttribute when !(named.TypeKind == TypeKind.Enum && JobTypeSupport.IsStringEnumConverter(attribute)):
                    return Unjudged(path, type, "which has [JsonConverter], whose output this check cannot see");
                case KnownNames.JsonPolymorphicAttribute or KnownNames.JsonDerivedTypeAttribute:
                    return Unjudged(path, type, "which has [JsonPolymorphic] or [JsonDerivedType], so a derived type this check does not follow may be written");
            }
        }

        if (named.TypeKind == TypeKind.Enum || IsWrittenAsValue(named))
        {
            return null;
        }

        if (ContextCollection(named) is { } collection)
        {
            return collection.Unordered is { } what ? (path, "it is " + what + ", " + ContextOrder)
                : collection.Element is null ? Unjudged(path, type, "a collection whose elements are written as whatever type each has at run time")
                : FindInContext(collection.Element, path + collection.Suffix, walk, depth + 1);
        }

        if (named.TypeKind == TypeKind.Interface || named.IsAbstract)
        {
            return Unjudged(path, type, "an interface or abstract type whose implementations this check cannot see");
        }

        if (JobTypeSupport.IsFrameworkType(named))
        {
            return Unjudged(path, type, "a framework type whose written form this check does not know");
        }

        if (named.AllInterfaces.Any(i => i.SpecialType == SpecialType.System_Collections_IEnumerable))
        {
            return Unjudged(path, type, "a collection of its own, whose order this check does not know");
        }

        if (walk.Stack.Any(s => SymbolEqualityComparer.Default.Equals(s, named)))
        {
            return null; // a cycle: its members are being checked further up
        }

        walk.Stack.Add(named);
        try
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            for (var t = named; t is not null && t.SpecialType is not (SpecialType.System_Object or SpecialType.System_ValueType); t = t.BaseType)
            {
                foreach (var member in t.GetMembers())
                {
                    // An override or a hiding member is met first, on the most derived type; the base one is not written.
                    if (WrittenType(member, walk) is not { } memberType || !seen.Add(member.Name)
                        || JobTypeSupport.GetIgnoreKind(member) == JsonIgnoreKind.Always)
                    {
                        continue;
                    }

                    var memberPath = path + "." + member.Name;
                    if (JobTypeSupport.HasAttribute(member, KnownNames.JsonConverterAttribute))
                    {
                        return (memberPath, "it is written by the job's JsonSerializerContext through a [JsonConverter], whose output this check cannot see");
                    }

                    if (FindInContext(memberType, memberPath, walk, depth + 1) is { } found)
                    {
                        return found;
                    }
                }
            }

            return null;
        }
        finally
        {
            walk.Stack.RemoveAt(walk.Stack.Count - 1);
        }
    }

    private static (string Path, string Reason) Unjudged(string path, ITypeSymbol type, string why)
        => (path, "it is written by the job's JsonSerializerContext as '" + type.ToDisplayString(SymbolDisplayFormat.CSharpShortErrorMessageFormat) + "', " + why);

    /// <summary>The type System.Text.Json writes for <paramref name="member"/>, or <see langword="null"/> when it writes none.</summary>
    private static ITypeSymbol? WrittenType(ISymbol member, Walk walk)
    {
        if (member.IsStatic)
        {
            return null;
        }

        var included = JobTypeSupport.HasAttribute(member, KnownNames.JsonIncludeAttribute);
        return member switch
        {
            IPropertySymbol { IsIndexer: false, GetMethod: { } getter } p
                when included || (p.DeclaredAccessibility == Accessibility.Public && getter.DeclaredAccessibility == Accessibility.Public) => p.Type,
            IFieldSymbol { IsConst: false, IsImplicitlyDeclared: false } f
                when included || (f.DeclaredAccessibility == Accessibility.Public && walk.ContextIncludesFields) => f.Type,
            _ => null,
        };
    }

    /// <summary>Types System.Text.Json writes as one JSON value.</summary>
    private static bool IsWrittenAsValue(INamedTypeSymbol type)
    {
        if (type.SpecialType is >= SpecialType.System_Boolean and <= SpecialType.System_String or SpecialType.System_DateTime
            or SpecialType.System_IntPtr or SpecialType.System_UIntPtr)
        {
            return true;
        }

        return type.Arity == 0 && JobTypeSupport.IsInNamespace(type, "System") && type.Name is "Guid" or "DateTimeOffset" or "DateOnly"
            or "TimeOnly" or "TimeSpan" or "Uri" or "Version" or "Int128" or "UInt128" or "Half";
    }

    /// <summary>
    /// How System.Text.Json writes <paramref name="type"/> when it is a collection it knows: a dictionary or set (unordered,
    /// unless sorted), or a sequence whose elements to follow; <see langword="null"/> for anything else.
    /// </summary>
    private static (string? Unordered, ITypeSymbol? Element, string Suffix)? ContextCollection(INamedTypeSymbol type)
    {
        var all = type.AllInterfaces.Add(type);
        var sorted = IsSorted(type);
        if (all.FirstOrDefault(i => IsGeneric(i, "IDictionary`2") || IsGeneric(i, "IReadOnlyDictionary`2")) is { } dictionary)
        {
            return sorted ? (null, dictionary.TypeArguments[1], "{}") : ("a dictionary", null, "");
        }

        if (all.Any(i => i.SpecialType == SpecialType.System_Collections_IEnumerable)
            && all.Any(i => i is { Name: "IDictionary", Arity: 0 } && JobTypeSupport.IsInNamespace(i, "System", "Collections")))
        {
            return ("a dictionary", null, "");
        }

        if (all.Any(i => IsGeneric(i, "ISet`1") || IsGeneric(i, "IReadOnlySet`1")
            || (i.MetadataName == "IImmutableSet`1" && JobTypeSupport.IsInNamespace(i, "System", "Collections", "Immutable"))))
        {
            return sorted ? (null, all.First(i => IsGeneric(i, "IEnumerable`1")).TypeArguments[0], "[]") : ("a set", null, "");
        }

        var enumerable = all.FirstOrDefault(i => IsGeneric(i, "IEnumerable`1"));
        // IEnumerable<T>, IList<T>, IReadOnlyList<T> and the like are followed as the generated writer follows them.
        if (enumerable is not null && ((type.TypeKind == TypeKind.Interface && IsGeneric(type, type.MetadataName)) || IsKnownSequence(type)))
        {
            return (null, enumerable.TypeArguments[0], "[]");
        }

        return enumerable is null && all.Any(i => i.SpecialType == SpecialType.System_Collections_IEnumerable) ? (null, null, "") : null;
    }

    /// <summary>The framework's sequences, written in their own order: lists, queues, stacks, immutable and read-only lists.</summary>
    private static bool IsKnownSequence(INamedTypeSymbol type)
        => (JobTypeSupport.IsInNamespace(type, "System", "Collections", "Generic") && type.Name is "List" or "Queue" or "Stack" or "LinkedList")
            || (JobTypeSupport.IsInNamespace(type, "System", "Collections", "Immutable") && type.Name is "ImmutableArray" or "ImmutableList" or "ImmutableQueue" or "ImmutableStack")
            || (JobTypeSupport.IsInNamespace(type, "System", "Collections", "ObjectModel") && type.Name is "Collection" or "ReadOnlyCollection" or "ObservableCollection");

    private static bool IsSorted(INamedTypeSymbol type)
    {
        for (INamedTypeSymbol? t = type; t is not null; t = t.BaseType)
        {
            if ((JobTypeSupport.IsInNamespace(t, "System", "Collections", "Generic") && t.Name is "SortedDictionary" or "SortedList" or "SortedSet")
                || (JobTypeSupport.IsInNamespace(t, "System", "Collections", "Immutable") && t.Name is "ImmutableSortedDictionary" or "ImmutableSortedSet"))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>A generic interface of System.Collections.Generic by metadata name (<c>IDictionary`2</c>).</summary>
    private static bool IsGeneric(INamedTypeSymbol type, string metadataName)
        => type.MetadataName == metadataName && JobTypeSupport.IsInNamespace(type, "System", "Collections", "Generic");

    /// <summary>The job's settings a walk needs, and the types it is inside of (a cycle guard).</summary>
    private sealed class Walk
    {
        public Walk(INamedTypeSymbol job, ITypeSymbol? jsonContext)
        {
            Job = job;
            HasJsonContext = jsonContext is not null;
            var options = JobTypeSupport.JsonContextOptions.Of(jsonContext);
            ContextIncludesFields = options.IncludesFields;
            ContextHasConverters = options.ConvertsAnything || options.Converted.Count > 0;
        }

        public INamedTypeSymbol Job { get; }
        public bool HasJsonContext { get; }
        public bool ContextIncludesFields { get; }
        public bool ContextHasConverters { get; }
        public List<INamedTypeSymbol> Stack { get; } = [];
    }
}
