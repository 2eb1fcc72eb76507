using System.Text.Json;

namespace Jobs.Sdk.Benchmarks.EndToEnd;

/// <summary>
/// The benchmark's no-op job: a sequence number (to verify every job ran exactly once) and, for the latency workload,
/// the producer's <see cref="System.Diagnostics.Stopwatch"/> timestamp taken just before the push (0 otherwise).
/// <see cref="IJob{TSelf}"/> is implemented by hand (the source generator is not used here).
/// </summary>
internal sealed record BenchJob(long Seq, long EnqueuedAtTicks) : IJob<BenchJob>
{
    public static string JobName => "bench";

    public static void Serialize(Utf8JsonWriter writer, BenchJob job)
    {
        writer.WriteStartObject();
        writer.WriteNumber("s"u8, job.Seq);
        if (job.EnqueuedAtTicks != 0)
        {
            writer.WriteNumber("t"u8, job.EnqueuedAtTicks);
        }

        writer.WriteEndObject();
    }

    public static BenchJob Deserialize(ReadOnlySpan<byte> utf8Json)
    {
        var reader = new Utf8JsonReader(utf8Json);
        long seq = -1, ticks = 0;
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JobDecodeException(JobName, null, "$", "Expected a JSON object.");
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isSeq = reader.ValueTextEquals("s"u8);
            var isTicks = !isSeq && reader.ValueTextEquals("t"u8);
            reader.Read();
            if (isSeq)
            {
                seq = reader.GetInt64();
            }
            else if (isTicks)
            {
                ticks = reader.GetInt64();
            }
            else
            {
                reader.Skip();
            }
        }

        return new BenchJob(seq, ticks);
    }
}
