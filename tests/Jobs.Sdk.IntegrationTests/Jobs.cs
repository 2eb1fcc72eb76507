using System.Collections.Immutable;
using System.Text.Json.Serialization;
using Jobs.Sdk;

namespace Jobs.Sdk.IntegrationTests;

/// <summary>Order priority.</summary>
public enum Level
{
    /// <summary>Low.</summary>
    Low,
    /// <summary>High.</summary>
    High,
}

/// <summary>File permissions.</summary>
[Flags]
public enum Access
{
    /// <summary>None.</summary>
    None = 0,
    /// <summary>Read.</summary>
    Read = 1,
    /// <summary>Write.</summary>
    Write = 2,
}

/// <summary>An order line.</summary>
/// <param name="Sku">Stock keeping unit.</param>
/// <param name="Quantity">How many.</param>
/// <param name="Price">Unit price.</param>
public sealed record OrderLine(string Sku, int Quantity, decimal Price);

/// <summary>Ships an order.</summary>
/// <param name="OrderId">The order.</param>
/// <param name="Customer">Who ordered.</param>
/// <param name="Lines">What was ordered.</param>
/// <param name="Level">How urgent.</param>
/// <param name="Tags">Free-form tags.</param>
/// <param name="Discount">Optional discount.</param>
/// <param name="PlacedAt">When the order was placed.</param>
[Job("ship-order", MaxAttempts = 3, TimeoutSeconds = 60)]
public sealed partial record ShipOrderJob(
    Guid OrderId,
    string Customer,
    List<OrderLine> Lines,
    Level Level,
    Dictionary<string, string> Tags,
    decimal? Discount,
    DateTimeOffset PlacedAt);

/// <summary>Rebuilds one search shard.</summary>
/// <param name="Shard">The shard.</param>
/// <param name="Window">How far back.</param>
/// <param name="Full">Full rebuild.</param>
[Job("reindex")]
public partial record struct ReindexJob(int Shard, TimeSpan Window, bool Full);

/// <summary>Renders a report (a class job with init properties and defaults).</summary>
[Job("report")]
public sealed partial class ReportJob
{
    /// <summary>The title.</summary>
    public required string Title { get; init; }

    /// <summary>Rows per page.</summary>
    public int PageSize { get; init; } = 50;

    /// <summary>Who gets it.</summary>
    public IReadOnlyList<string> Recipients { get; init; } = [];

    /// <summary>Optional day.</summary>
    public DateOnly? Day { get; set; }

    /// <summary>Renamed on the wire.</summary>
    [JsonPropertyName("fmt")]
    public string Format { get; set; } = "pdf";
}

/// <summary>A job with a member type only a JsonSerializerContext handles.</summary>
/// <param name="Version">The version (serialized by System.Text.Json metadata).</param>
/// <param name="Build">The build number.</param>
[Job("versioned", JsonContext = typeof(IntegrationJsonContext))]
public sealed partial record VersionedJob(Version Version, int Build);

/// <summary>System.Text.Json metadata for types the generated serializer delegates.</summary>
[JsonSerializable(typeof(Version))]
internal sealed partial class IntegrationJsonContext : JsonSerializerContext;

/// <summary>A point.</summary>
public struct Point : IEquatable<Point>
{
    /// <summary>X.</summary>
    public int X { get; set; }

    /// <summary>Y.</summary>
    public int Y { get; set; }

    /// <inheritdoc />
    public readonly bool Equals(Point other) => X == other.X && Y == other.Y;

    /// <inheritdoc />
    public override readonly bool Equals(object? obj) => obj is Point other && Equals(other);

    /// <inheritdoc />
    public override readonly int GetHashCode() => HashCode.Combine(X, Y);

    /// <summary>Equality.</summary>
    public static bool operator ==(Point left, Point right) => left.Equals(right);

    /// <summary>Inequality.</summary>
    public static bool operator !=(Point left, Point right) => !left.Equals(right);
}

/// <summary>Every member type the generated serializer supports.</summary>
[Job("all-types")]
public sealed partial class AllTypesJob
{
    /// <summary>Member.</summary>
    public bool Bool { get; set; }
    /// <summary>Member.</summary>
    public byte Byte { get; set; }
    /// <summary>Member.</summary>
    public sbyte SByte { get; set; }
    /// <summary>Member.</summary>
    public short Short { get; set; }
    /// <summary>Member.</summary>
    public ushort UShort { get; set; }
    /// <summary>Member.</summary>
    public int Int { get; set; }
    /// <summary>Member.</summary>
    public uint UInt { get; set; }
    /// <summary>Member.</summary>
    public long Long { get; set; }
    /// <summary>Member.</summary>
    public ulong ULong { get; set; }
    /// <summary>Member.</summary>
    public nint NInt { get; set; }
    /// <summary>Member.</summary>
    public nuint NUInt { get; set; }
    /// <summary>Member.</summary>
    public float Float { get; set; }
    /// <summary>Member.</summary>
    public double Double { get; set; }
    /// <summary>Member.</summary>
    public double NotANumber { get; set; }
    /// <summary>Member.</summary>
    public decimal Decimal { get; set; }
    /// <summary>Member.</summary>
    public char Char { get; set; }
    /// <summary>Member.</summary>
    public string String { get; set; } = "";
    /// <summary>Member.</summary>
    public Guid Guid { get; set; }
    /// <summary>Member.</summary>
    public DateTime DateTime { get; set; }
    /// <summary>Member.</summary>
    public DateTimeOffset DateTimeOffset { get; set; }
    /// <summary>Member.</summary>
    public DateOnly DateOnly { get; set; }
    /// <summary>Member.</summary>
    public TimeOnly TimeOnly { get; set; }
    /// <summary>Member.</summary>
    public TimeSpan TimeSpan { get; set; }
    /// <summary>Member.</summary>
    public Uri? Uri { get; set; }
    /// <summary>Member.</summary>
    public Level Level { get; set; }
    /// <summary>Member.</summary>
    public Access Access { get; set; }
    /// <summary>Member.</summary>
    public byte[]? Bytes { get; set; }
    /// <summary>Member.</summary>
    public int? NullableInt { get; set; }
    /// <summary>Member.</summary>
    public Level? NullableLevel { get; set; }
    /// <summary>Member.</summary>
    public Point Point { get; set; }
    /// <summary>Member.</summary>
    public Point? NullablePoint { get; set; }
    /// <summary>Member.</summary>
    public int[]? Array { get; set; }
    /// <summary>Member.</summary>
    public List<string?>? List { get; set; }
    /// <summary>Member.</summary>
    public IReadOnlyList<OrderLine>? ReadOnlyList { get; set; }
    /// <summary>Member.</summary>
    public IEnumerable<long>? Enumerable { get; set; }
    /// <summary>Member.</summary>
    public ImmutableArray<Guid> Immutable { get; set; } = [];
    /// <summary>Member.</summary>
    public HashSet<string>? Set { get; set; }
    /// <summary>Member.</summary>
    public Dictionary<string, int?>? Dictionary { get; set; }
    /// <summary>Member.</summary>
    public IReadOnlyDictionary<string, List<Level>>? ReadOnlyDictionary { get; set; }
    /// <summary>Member.</summary>
    public List<List<int>>? Nested { get; set; }
}

/// <summary>A struct job with init-only properties and a default (set through generated accessors when present).</summary>
[Job("struct-init")]
public partial struct StructInitJob
{
    /// <summary>Creates the job with defaults.</summary>
    public StructInitJob()
    {
    }

    /// <summary>A number.</summary>
    public int A { get; init; }

    /// <summary>A label with a default.</summary>
    public string B { get; init; } = "default-b";
}
