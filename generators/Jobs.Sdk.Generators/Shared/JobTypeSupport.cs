using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;

namespace Jobs.Sdk.Generators.Shared;

/// <summary>
/// What the generated serializer supports. Pure functions over Roslyn symbols, shared by file link with
/// <c>Jobs.Sdk.Analyzers</c> so the generator and the analyzers can never disagree.
/// </summary>
internal static partial class JobTypeSupport
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
}
