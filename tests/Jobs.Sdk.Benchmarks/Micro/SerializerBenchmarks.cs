using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization;
using BenchmarkDotNet.Attributes;
using Jobs.Sdk;

namespace JobsSdk.Benchmarks.Micro;

/// <summary>Shipping speed.</summary>
public enum ShippingSpeed
{
    Standard,
    Express,
}

/// <summary>A postal address (nested record).</summary>
public sealed record Address(string Street, string City, string PostalCode, string Country);

/// <summary>An order line (list element).</summary>
public sealed record OrderLine(string Sku, int Quantity, decimal UnitPrice);

/// <summary>A typical job: 9 members including a list of records, a nested record, an enum and nullable values.</summary>
[Job("process-order")]
public sealed partial record ProcessOrder(
    Guid OrderId,
    long CustomerId,
    string Email,
    Address ShippingAddress,
    List<OrderLine> Lines,
    ShippingSpeed Speed,
    decimal Total,
    DateTimeOffset PlacedAt,
    string? Coupon);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, UseStringEnumConverter = true)]
[JsonSerializable(typeof(ProcessOrder))]
internal sealed partial class BenchmarkJsonContext : JsonSerializerContext;

/// <summary>Generated Utf8JsonWriter/Utf8JsonReader code versus System.Text.Json source-generated metadata.</summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkDotNet.Configs.BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class SerializerBenchmarks
{
    private readonly ArrayBufferWriter<byte> _buffer = new(1024);
    private Utf8JsonWriter _writer = null!;
    private ProcessOrder _job = null!;
    private byte[] _generatedJson = null!;
    private byte[] _stjJson = null!;

    [GlobalSetup]
    public void Setup()
    {
        _writer = new Utf8JsonWriter(_buffer);
        _job = new ProcessOrder(
            Guid.Parse("5f0c8a62-2b1e-4a8e-9f3d-0c1b2a394857"),
            1234567890,
            "customer@example.com",
            new Address("1 Main Street", "Springfield", "12345", "US"),
            [new OrderLine("SKU-0001", 2, 19.99m), new OrderLine("SKU-0002", 1, 5.00m), new OrderLine("SKU-0003", 10, 0.25m)],
            ShippingSpeed.Express,
            47.48m,
            new DateTimeOffset(2025, 3, 4, 5, 6, 7, TimeSpan.FromHours(1)),
            null);
        _generatedJson = Write(static (w, j) => Serialize(w, j));
        _stjJson = Write(static (w, j) => JsonSerializer.Serialize(w, j, BenchmarkJsonContext.Default.ProcessOrder));
        if (!_generatedJson.AsSpan().SequenceEqual(_stjJson))
        {
            throw new InvalidOperationException("The two serializers disagree; the comparison would not be fair:\n"
                + System.Text.Encoding.UTF8.GetString(_generatedJson) + "\n" + System.Text.Encoding.UTF8.GetString(_stjJson));
        }
    }

    private byte[] Write(Action<Utf8JsonWriter, ProcessOrder> write)
    {
        _buffer.ResetWrittenCount();
        _writer.Reset(_buffer);
        write(_writer, _job);
        _writer.Flush();
        return _buffer.WrittenSpan.ToArray();
    }

    private static void Serialize<T>(Utf8JsonWriter writer, T job) where T : IJob<T> => T.Serialize(writer, job);

    private static T Deserialize<T>(ReadOnlySpan<byte> json) where T : IJob<T> => T.Deserialize(json);

    [Benchmark(Baseline = true, Description = "Serialize: System.Text.Json (source-gen)")]
    [BenchmarkCategory("Serialize")]
    public int SerializeStj()
    {
        _buffer.ResetWrittenCount();
        _writer.Reset(_buffer);
        JsonSerializer.Serialize(_writer, _job, BenchmarkJsonContext.Default.ProcessOrder);
        _writer.Flush();
        return _buffer.WrittenCount;
    }

    [Benchmark(Description = "Serialize: Jobs.Sdk generated")]
    [BenchmarkCategory("Serialize")]
    public int SerializeGenerated()
    {
        _buffer.ResetWrittenCount();
        _writer.Reset(_buffer);
        Serialize(_writer, _job);
        _writer.Flush();
        return _buffer.WrittenCount;
    }

    [Benchmark(Baseline = true, Description = "Deserialize: System.Text.Json (source-gen)")]
    [BenchmarkCategory("Deserialize")]
    public ProcessOrder DeserializeStj() => JsonSerializer.Deserialize(_stjJson, BenchmarkJsonContext.Default.ProcessOrder)!;

    [Benchmark(Description = "Deserialize: Jobs.Sdk generated")]
    [BenchmarkCategory("Deserialize")]
    public ProcessOrder DeserializeGenerated() => Deserialize<ProcessOrder>(_generatedJson);
}
