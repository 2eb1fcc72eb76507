using System.Collections.Immutable;
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
