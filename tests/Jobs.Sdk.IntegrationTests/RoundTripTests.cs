using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;
using Jobs.Sdk;

namespace Jobs.Sdk.IntegrationTests;

public class RoundTripTests
{
    private static AllTypesJob Edge(bool max) => new()
    {
        Bool = max,
        Byte = max ? byte.MaxValue : byte.MinValue,
        SByte = max ? sbyte.MaxValue : sbyte.MinValue,
        Short = max ? short.MaxValue : short.MinValue,
        UShort = max ? ushort.MaxValue : ushort.MinValue,
        Int = max ? int.MaxValue : int.MinValue,
        UInt = max ? uint.MaxValue : uint.MinValue,
        Long = max ? long.MaxValue : long.MinValue,
        ULong = max ? ulong.MaxValue : ulong.MinValue,
        NInt = max ? nint.MaxValue : nint.MinValue,
        NUInt = max ? nuint.MaxValue : nuint.MinValue,
        Float = max ? float.MaxValue : float.Epsilon,
        Double = max ? double.MaxValue : -double.Epsilon,
        NotANumber = max ? double.NaN : double.NegativeInfinity,
        Decimal = max ? decimal.MaxValue : -1.2300m,
        Char = max ? '\uFFFD' : '"',
        String = max ? "unicode é ✓ 😀 \"quoted\" \\ \n\t\u0001 <html>&" : "",
        Guid = max ? Guid.Parse("7d2a1e4c-8f0b-4a6d-9c3e-1b2f3a4d5e6f", CultureInfo.InvariantCulture) : Guid.Empty,
        DateTime = max ? DateTime.SpecifyKind(DateTime.MaxValue, DateTimeKind.Utc) : new DateTime(2024, 2, 29, 13, 45, 30, 123, DateTimeKind.Unspecified),
        DateTimeOffset = max ? DateTimeOffset.MaxValue : new DateTimeOffset(2024, 2, 29, 13, 45, 30, 123, TimeSpan.FromHours(-9.5)),
        DateOnly = max ? DateOnly.MaxValue : DateOnly.MinValue,
        TimeOnly = max ? TimeOnly.MaxValue : TimeOnly.MinValue,
        TimeSpan = max ? TimeSpan.MaxValue : TimeSpan.MinValue,
        Uri = max ? new Uri("https://example.com/a b?q=1#frag") : new Uri("relative/path", UriKind.Relative),
        Level = max ? Level.High : Level.Low,
        Access = max ? Access.Read | Access.Write : (Access)8,
        Bytes = max ? [0, 1, 2, 255] : [],
        NullableInt = max ? 42 : null,
        NullableLevel = max ? Level.High : null,
        Point = new Point { X = max ? 1 : -1, Y = 2 },
        NullablePoint = max ? new Point { X = 3, Y = 4 } : null,
        Array = max ? [1, 2, 3] : [],
        List = max ? ["a", null, "c"] : [],
        ReadOnlyList = max ? [new OrderLine("sku-1", 2, 9.99m), new OrderLine("sku-2", 1, 0.10m)] : [],
        Enumerable = max ? [long.MinValue, 0, long.MaxValue] : null,
        Immutable = max ? [Guid.Empty, Guid.Parse("00000000-0000-0000-0000-000000000001", CultureInfo.InvariantCulture)] : [],
        Set = max ? ["x", "y"] : null,
        Dictionary = max ? new() { ["a"] = 1, ["b"] = null, ["é \"key\""] = 3 } : [],
        ReadOnlyDictionary = max ? new Dictionary<string, List<Level>> { ["k"] = [Level.Low, Level.High] } : null,
        Nested = max ? [[1], [], [2, 3]] : null,
    };

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Every_supported_type_round_trips(bool max)
    {
        var job = Edge(max);
        var json = JobJson.Serialize(job);
        var back = JobJson.Deserialize<AllTypesJob>(json);

        Assert.Equal(job.Bool, back.Bool);
        Assert.Equal(job.Byte, back.Byte);
        Assert.Equal(job.SByte, back.SByte);
        Assert.Equal(job.Short, back.Short);
        Assert.Equal(job.UShort, back.UShort);
        Assert.Equal(job.Int, back.Int);
        Assert.Equal(job.UInt, back.UInt);
        Assert.Equal(job.Long, back.Long);
        Assert.Equal(job.ULong, back.ULong);
        Assert.Equal(job.NInt, back.NInt);
        Assert.Equal(job.NUInt, back.NUInt);
        Assert.Equal(job.Float, back.Float);
        Assert.Equal(job.Double, back.Double);
        Assert.Equal(job.NotANumber, back.NotANumber);
        Assert.Equal(job.Decimal, back.Decimal);
        Assert.Equal(job.Decimal.Scale, back.Decimal.Scale);
        Assert.Equal(job.Char, back.Char);
        Assert.Equal(job.String, back.String);
        Assert.Equal(job.Guid, back.Guid);
        Assert.Equal(job.DateTime, back.DateTime);
        Assert.Equal(job.DateTime.Kind, back.DateTime.Kind);
        Assert.Equal(job.DateTimeOffset, back.DateTimeOffset);
        Assert.Equal(job.DateTimeOffset.Offset, back.DateTimeOffset.Offset);
        Assert.Equal(job.DateOnly, back.DateOnly);
        Assert.Equal(job.TimeOnly, back.TimeOnly);
        Assert.Equal(job.TimeSpan, back.TimeSpan);
        Assert.Equal(job.Uri, back.Uri);
        Assert.Equal(job.Level, back.Level);
        Assert.Equal(job.Access, back.Access);
        Assert.Equal(job.Bytes, back.Bytes);
        Assert.Equal(job.NullableInt, back.NullableInt);
        Assert.Equal(job.NullableLevel, back.NullableLevel);
        Assert.Equal(job.Point, back.Point);
        Assert.Equal(job.NullablePoint, back.NullablePoint);
        Assert.Equal(job.Array, back.Array);
        Assert.Equal(job.List, back.List);
        Assert.Equal(job.ReadOnlyList, back.ReadOnlyList);
        Assert.Equal(job.Enumerable, back.Enumerable);
        Assert.Equal(job.Immutable.ToArray(), back.Immutable.ToArray());
        Assert.Equal(job.Set, back.Set);
        Assert.Equal(job.Dictionary, back.Dictionary);
        Assert.Equal(job.ReadOnlyDictionary?.Keys, back.ReadOnlyDictionary?.Keys);
        Assert.Equal(job.ReadOnlyDictionary?.Values.SelectMany(v => v), back.ReadOnlyDictionary?.Values.SelectMany(v => v));
        Assert.Equal(job.Nested, back.Nested);

        // Serializing again gives the same bytes.
        Assert.Equal(json, JobJson.Serialize(back));
    }

    [Fact]
    public void Output_is_valid_json_with_the_expected_values()
    {
        var job = Edge(max: true);
        using var document = JsonDocument.Parse(JobJson.Serialize(job));
        var root = document.RootElement;

        Assert.True(root.GetProperty("bool").GetBoolean());
        Assert.Equal(byte.MaxValue, root.GetProperty("byte").GetByte());
        Assert.Equal(long.MaxValue, root.GetProperty("long").GetInt64());
        Assert.Equal(ulong.MaxValue, root.GetProperty("uLong").GetUInt64());
        Assert.Equal(decimal.MaxValue, root.GetProperty("decimal").GetDecimal());
        Assert.Equal(job.String, root.GetProperty("string").GetString());
        Assert.Equal("\uFFFD", root.GetProperty("char").GetString());
        Assert.Equal(job.Guid, root.GetProperty("guid").GetGuid());
        Assert.Equal(job.DateTimeOffset, root.GetProperty("dateTimeOffset").GetDateTimeOffset());
        Assert.Equal("9999-12-31", root.GetProperty("dateOnly").GetString());
        Assert.Equal("NaN", root.GetProperty("notANumber").GetString());
        Assert.Equal("High", root.GetProperty("level").GetString());
        Assert.Equal("Read, Write", root.GetProperty("access").GetString());
        Assert.Equal(Convert.ToBase64String(job.Bytes!), root.GetProperty("bytes").GetString());
        Assert.Equal(JsonValueKind.Object, root.GetProperty("nullablePoint").ValueKind);
        Assert.Equal(3, root.GetProperty("nullablePoint").GetProperty("x").GetInt32());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("list")[1].ValueKind);
        Assert.Equal("sku-2", root.GetProperty("readOnlyList")[1].GetProperty("sku").GetString());
        Assert.Equal(3, root.GetProperty("dictionary").GetProperty("é \"key\"").GetInt32());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("dictionary").GetProperty("b").ValueKind);
        Assert.Equal(2, root.GetProperty("nested")[2].GetArrayLength());
    }

    [Fact]
    public void SystemTextJson_reads_the_generated_output_back_to_equal_values()
    {
        var job = new ShipOrderJob(
            Guid.NewGuid(), "Zoë \"Z\" <z@example.com>",
            [new OrderLine("a", 1, 1.50m), new OrderLine("b", 2, 0.001m)],
            Level.High,
            new Dictionary<string, string> { ["source"] = "web", ["ünï"] = "cödé" },
            12.5m,
            new DateTimeOffset(2024, 5, 6, 7, 8, 9, TimeSpan.FromHours(5.75)));

        var json = JobJson.Serialize(job);
        var viaStj = JsonSerializer.Deserialize(json, StjContext.Default.ShipOrderJob)!;

        AssertEqual(job, viaStj);
        AssertEqual(job, JobJson.Deserialize<ShipOrderJob>(json));

        // And the generated reader reads what System.Text.Json writes.
        var stjJson = JsonSerializer.SerializeToUtf8Bytes(job, StjContext.Default.ShipOrderJob);
        AssertEqual(job, JobJson.Deserialize<ShipOrderJob>(stjJson));
    }

    [Fact]
    public void Empty_and_null_collections_round_trip()
    {
        var empty = new AllTypesJob { List = [], Set = [], Dictionary = [], Enumerable = [], Immutable = [] };
        var back = JobJson.Deserialize<AllTypesJob>(JobJson.Serialize(empty));
        Assert.Empty(back.List!);
        Assert.Empty(back.Set!);
        Assert.Empty(back.Dictionary!);
        Assert.Empty(back.Enumerable!);
        Assert.True(back.Immutable.IsEmpty);

        var nulls = new AllTypesJob { List = null, Set = null, Dictionary = null, Enumerable = null, Bytes = null, Uri = null };
        back = JobJson.Deserialize<AllTypesJob>(JobJson.Serialize(nulls));
        Assert.Null(back.List);
        Assert.Null(back.Set);
        Assert.Null(back.Dictionary);
        Assert.Null(back.Enumerable);
        Assert.Null(back.Bytes);
        Assert.Null(back.Uri);
    }

    [Fact]
    public void Struct_class_and_json_context_jobs_round_trip()
    {
        var reindex = new ReindexJob(7, TimeSpan.FromMinutes(-90), Full: true);
        Assert.Equal(reindex, JobJson.Deserialize<ReindexJob>(JobJson.Serialize(reindex)));

        var report = new ReportJob { Title = "Q1", PageSize = 10, Recipients = ["a@x", "b@x"], Day = new DateOnly(2024, 1, 31), Format = "csv" };
        var json = JobJson.Serialize(report);
        Assert.Contains("\"fmt\":\"csv\"", System.Text.Encoding.UTF8.GetString(json), StringComparison.Ordinal);
        var reportBack = JobJson.Deserialize<ReportJob>(json);
        Assert.Equal(("Q1", 10, "csv", new DateOnly(2024, 1, 31)), (reportBack.Title, reportBack.PageSize, reportBack.Format, reportBack.Day!.Value));
        Assert.Equal(["a@x", "b@x"], reportBack.Recipients);

        var versioned = new VersionedJob(new Version(1, 2, 3, 4), 99);
        Assert.Equal(versioned, JobJson.Deserialize<VersionedJob>(JobJson.Serialize(versioned)));
    }

    [Fact]
    public void Struct_with_init_properties_sets_present_members_and_keeps_defaults()
    {
        var full = JobJson.Deserialize<StructInitJob>(JobJson.Serialize(new StructInitJob { A = 5, B = "set" }));
        Assert.Equal((5, "set"), (full.A, full.B));

        var partial = JobJson.Deserialize<StructInitJob>("""{"a":9}""");
        Assert.Equal((9, "default-b"), (partial.A, partial.B));
    }

    [Fact]
    public void Attribute_settings_are_exposed_through_IJob()
    {
        Assert.Equal("ship-order", JobJson.Name<ShipOrderJob>());
        Assert.Equal(3, JobJson.MaxAttempts<ShipOrderJob>());
        Assert.Equal(TimeSpan.FromSeconds(60), JobJson.Timeout<ShipOrderJob>());
        Assert.Null(JobJson.MaxAttempts<ReindexJob>());
        Assert.Null(JobJson.Timeout<ReindexJob>());
    }

    private static void AssertEqual(ShipOrderJob expected, ShipOrderJob actual)
    {
        Assert.Equal(expected.OrderId, actual.OrderId);
        Assert.Equal(expected.Customer, actual.Customer);
        Assert.Equal(expected.Lines, actual.Lines);
        Assert.Equal(expected.Lines.Select(l => l.Price.Scale), actual.Lines.Select(l => l.Price.Scale));
        Assert.Equal(expected.Level, actual.Level);
        Assert.Equal(expected.Tags, actual.Tags);
        Assert.Equal(expected.Discount, actual.Discount);
        Assert.Equal(expected.PlacedAt, actual.PlacedAt);
        Assert.Equal(expected.PlacedAt.Offset, actual.PlacedAt.Offset);
    }
}

/// <summary>System.Text.Json's own metadata for the cross-check (camelCase, enums as strings, like the generated serializer).</summary>
[System.Text.Json.Serialization.JsonSourceGenerationOptions(
    PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.CamelCase,
    UseStringEnumConverter = true)]
[System.Text.Json.Serialization.JsonSerializable(typeof(ShipOrderJob))]
internal sealed partial class StjContext : System.Text.Json.Serialization.JsonSerializerContext;
