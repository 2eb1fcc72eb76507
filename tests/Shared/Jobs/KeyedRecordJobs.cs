using System.Globalization;
using System.Text.Json;

namespace Jobs.Sdk.Testing;

/// <summary>
/// A job of the per-key concurrency process test (limit 1): <c>N = key * 1000 + place</c>, so its concurrency key is
/// <c>N / 1000</c> and its place in the key's push order <c>N % 1000</c>. The TestWorker records its span.
/// </summary>
public sealed record KeyedRecordJob(int N) : IJob<KeyedRecordJob>
{
    public static string JobName => "mp.keyed";
    public static int? ConcurrencyLimit => 1;
    public static string GetConcurrencyKey(KeyedRecordJob job) => JobName + ":" + (job.N / 1000).ToString(CultureInfo.InvariantCulture);
    public static void Serialize(Utf8JsonWriter writer, KeyedRecordJob job) => IntMemberJson.Write(writer, "n", job.N);
    public static KeyedRecordJob Deserialize(ReadOnlySpan<byte> utf8Json) => new(IntMemberJson.Read(utf8Json, JobName, "n", nameof(N)));
}

/// <summary>As <see cref="KeyedRecordJob"/> with a limit of 2 per key.</summary>
public sealed record PairedRecordJob(int N) : IJob<PairedRecordJob>
{
    public static string JobName => "mp.paired";
    public static int? ConcurrencyLimit => 2;
    public static string GetConcurrencyKey(PairedRecordJob job) => JobName + ":" + (job.N / 1000).ToString(CultureInfo.InvariantCulture);
    public static void Serialize(Utf8JsonWriter writer, PairedRecordJob job) => IntMemberJson.Write(writer, "n", job.N);
    public static PairedRecordJob Deserialize(ReadOnlySpan<byte> utf8Json) => new(IntMemberJson.Read(utf8Json, JobName, "n", nameof(N)));
}
