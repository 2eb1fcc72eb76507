using System.Text.Json;

namespace Jobs.Sdk.Testing;

/// <summary>A hand-written <see cref="IJob{TSelf}"/> with an int value (what the source generator emits for [Job] types).</summary>
public sealed record ValueJob(int Value) : IJob<ValueJob>
{
    public static string JobName => "test.value";

    public static void Serialize(Utf8JsonWriter writer, ValueJob job) => IntMemberJson.Write(writer, "value", job.Value);

    public static ValueJob Deserialize(ReadOnlySpan<byte> utf8Json) => new(IntMemberJson.Read(utf8Json, JobName, "value", nameof(Value)));
}

/// <summary>A job whose name no handler is registered for in most tests (same JSON shape as <see cref="ValueJob"/>).</summary>
public sealed record OrphanJob(int Value) : IJob<OrphanJob>
{
    public static string JobName => "test.orphan";

    public static void Serialize(Utf8JsonWriter writer, OrphanJob job) => IntMemberJson.Write(writer, "value", job.Value);

    public static OrphanJob Deserialize(ReadOnlySpan<byte> utf8Json) => new(IntMemberJson.Read(utf8Json, JobName, "value", nameof(Value)));
}

/// <summary>The job the multi-process tests push and the TestWorker process runs (it records its run in a table).</summary>
public sealed record RecordJob(int N) : IJob<RecordJob>
{
    public static string JobName => "mp.record";

    public static void Serialize(Utf8JsonWriter writer, RecordJob job) => IntMemberJson.Write(writer, "n", job.N);

    public static RecordJob Deserialize(ReadOnlySpan<byte> utf8Json) => new(IntMemberJson.Read(utf8Json, JobName, "n", nameof(N)));
}

/// <summary>A unique job whose whole payload is its key (no <c>[UniqueKey]</c> member), released as soon as it finished.</summary>
public sealed record UniqueValueJob(int Value) : IJob<UniqueValueJob>
{
    public static string JobName => "test.unique-value";

    public static bool Unique => true;

    public static void Serialize(Utf8JsonWriter writer, UniqueValueJob job) => IntMemberJson.Write(writer, "value", job.Value);

    public static UniqueValueJob Deserialize(ReadOnlySpan<byte> utf8Json) => new(IntMemberJson.Read(utf8Json, JobName, "value", nameof(Value)));
}

/// <summary>A unique job keyed by <see cref="Key"/> (its <c>[UniqueKey]</c> member) whose key holds for an hour after it finished.</summary>
public sealed record HeldValueJob(int Key, int Value) : IJob<HeldValueJob>
{
    public static string JobName => "test.held-value";

    public static bool Unique => true;

    public static int UniqueForSeconds => 3600;

    public static string? GetUniqueKey(HeldValueJob job) => job.Key.ToString(System.Globalization.CultureInfo.InvariantCulture);

    public static void Serialize(Utf8JsonWriter writer, HeldValueJob job)
    {
        writer.WriteStartObject();
        writer.WriteNumber("key", job.Key);
        writer.WriteNumber("value", job.Value);
        writer.WriteEndObject();
    }

    public static HeldValueJob Deserialize(ReadOnlySpan<byte> utf8Json)
    {
        using var doc = JsonDocument.Parse(utf8Json.ToArray());
        return new HeldValueJob(doc.RootElement.GetProperty("key").GetInt32(), doc.RootElement.GetProperty("value").GetInt32());
    }
}

/// <summary>
/// The job of the schedule chaos tests: the TestWorker (with <c>JOBS_TEST_SCHEDULE=ticks</c>) schedules one per second of
/// the minute (<c>Schedule.EveryMinute(second)</c>, sixty entries: together a fire every second) and records each run.
/// </summary>
public sealed record TickJob(int Second) : IJob<TickJob>
{
    public static string JobName => "mp.tick";

    public static void Serialize(Utf8JsonWriter writer, TickJob job) => IntMemberJson.Write(writer, "second", job.Second);

    public static TickJob Deserialize(ReadOnlySpan<byte> utf8Json) => new(IntMemberJson.Read(utf8Json, JobName, "second", nameof(Second)));
}

/// <summary>
/// The job of the unique-job chaos test: unique by <see cref="Key"/>, whose key holds for a second after the job finished.
/// TestWorker processes (with <c>JOBS_TEST_UNIQUE_PUSH=keys</c>) push it and record each run.
/// </summary>
public sealed record UniqueRecordJob(int Key, int N) : IJob<UniqueRecordJob>
{
    public static string JobName => "mp.unique-record";

    public static bool Unique => true;

    public static int UniqueForSeconds => 1;

    public static string? GetUniqueKey(UniqueRecordJob job) => job.Key.ToString(System.Globalization.CultureInfo.InvariantCulture);

    public static void Serialize(Utf8JsonWriter writer, UniqueRecordJob job)
    {
        writer.WriteStartObject();
        writer.WriteNumber("key", job.Key);
        writer.WriteNumber("n", job.N);
        writer.WriteEndObject();
    }

    public static UniqueRecordJob Deserialize(ReadOnlySpan<byte> utf8Json)
    {
        using var doc = JsonDocument.Parse(utf8Json.ToArray());
        return new UniqueRecordJob(doc.RootElement.GetProperty("key").GetInt32(), doc.RootElement.GetProperty("n").GetInt32());
    }
}
