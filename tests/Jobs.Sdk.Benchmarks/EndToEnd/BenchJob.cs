using System.Text.Json;

namespace Jobs.Sdk.Benchmarks.EndToEnd;

/// <summary>
/// The benchmark's no-op job: a sequence number (to verify every job ran exactly once) and, for the latency workload,
/// the producer's <see cref="System.Diagnostics.Stopwatch"/> timestamp taken just before the push (0 otherwise).
/// <see cref="IJob{TSelf}"/> is implemented by hand (the source generator is not used here). With
/// <c>--concurrency-keys K</c> the jobs are spread over K concurrency keys (by sequence number) under a per-key limit.
/// </summary>
internal sealed record BenchJob(long Seq, long EnqueuedAtTicks) : IJob<BenchJob>
{
    private static string[] s_keys = [];
    private static int s_limit;

    public static string JobName => "bench";

    public static int? ConcurrencyLimit => s_keys.Length > 0 ? s_limit : null;

    public static string GetConcurrencyKey(BenchJob job) => s_keys[(int)(((job.Seq % s_keys.Length) + s_keys.Length) % s_keys.Length)];

    /// <summary>Spreads pushed jobs over <paramref name="keys"/> concurrency keys (0: none) of limit <paramref name="limit"/>.</summary>
    public static void UseConcurrencyKeys(int keys, int limit)
    {
        s_keys = [.. Enumerable.Range(0, keys).Select(k => "bench:" + k.ToString(System.Globalization.CultureInfo.InvariantCulture))];
        s_limit = limit;
    }

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
