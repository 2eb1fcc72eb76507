using System.Buffers;
using System.Text.Json;
using Jobs.Sdk.Drivers;
using Jobs.Sdk.Infrastructure;
using Xunit;

namespace Jobs.Sdk.Testing;

/// <content>Payloads come back as the generated serializer wrote them, whatever the driver stores them as (jsonb, bytes).</content>
public abstract partial class JobDriverConformanceTests
{
    /// <summary>
    /// Negative zero is a value of its own (<c>1 / -0.0</c> is -∞; <c>double.IsNegative</c>, <c>Math.CopySign</c> and
    /// <c>decimal.IsNegative</c> see it). PostgreSQL's jsonb normalises the JSON numbers -0, -0.0 and -0.00 to 0, 0.0 and
    /// 0.00, while the in-memory driver keeps the bytes: the same push must give the worker the same values on both.
    /// The payload is written and read by the runtime methods generated serializers call.
    /// </summary>
    [Fact]
    public async Task Negative_zero_written_by_the_generated_serializer_reads_back_negative_on_every_driver()
    {
        var d = await DriverAsync();
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartArray();
            JobJsonServices.WriteDouble(writer, -0.0);
            JobJsonServices.WriteSingle(writer, -0.0f);
            JobJsonServices.WriteDecimal(writer, decimal.Negate(0.00m));
            JobJsonServices.WriteDouble(writer, 0.0);
            JobJsonServices.WriteDouble(writer, -double.Epsilon);
            JobJsonServices.WriteDouble(writer, double.NaN);
            writer.WriteEndArray();
        }

        var record = Record(0) with { Payload = buffer.WrittenSpan.ToArray() };
        await d.PushAsync([record], null, default);
        var job = Assert.Single(await ClaimAsync(d, "w", 1));

        var reader = new Utf8JsonReader(job.Payload.Span);
        reader.Read();
        reader.Read();
        var d0 = JobJsonServices.ReadDouble(ref reader);
        reader.Read();
        var s0 = JobJsonServices.ReadSingle(ref reader);
        reader.Read();
        var m0 = JobJsonServices.ReadDecimal(ref reader);
        reader.Read();
        var p0 = JobJsonServices.ReadDouble(ref reader);
        reader.Read();
        var tiny = JobJsonServices.ReadDouble(ref reader);
        reader.Read();
        var nan = JobJsonServices.ReadDouble(ref reader);

        Assert.Equal(
            (BitConverter.DoubleToInt64Bits(-0.0), BitConverter.SingleToInt32Bits(-0.0f), true, "0.00", BitConverter.DoubleToInt64Bits(0.0), -double.Epsilon, true),
            (BitConverter.DoubleToInt64Bits(d0), BitConverter.SingleToInt32Bits(s0), decimal.IsNegative(m0), m0.ToString(System.Globalization.CultureInfo.InvariantCulture),
                BitConverter.DoubleToInt64Bits(p0), tiny, double.IsNaN(nan)));
    }
}
