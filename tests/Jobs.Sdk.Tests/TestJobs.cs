using System.Text.Json;

namespace Jobs.Sdk.Tests;

/// <summary>Same JSON shape as <see cref="ValueJob"/> under another name, with a per-type attempt limit and timeout.</summary>
public sealed record LimitedJob(int Value) : IJob<LimitedJob>
{
    public static string JobName => "test.limited";
    public static int? MaxAttempts => 2;
    public static TimeSpan? Timeout => TimeSpan.FromSeconds(5);
    public static void Serialize(Utf8JsonWriter writer, LimitedJob job) => IntMemberJson.Write(writer, "value", job.Value);
    public static LimitedJob Deserialize(ReadOnlySpan<byte> utf8Json) => new(IntMemberJson.Read(utf8Json, JobName, "value", nameof(Value)));
}

/// <summary>Serializes as a string, so pushing it under <see cref="ValueJob"/>'s name makes an undecodable payload.</summary>
public sealed record BadPayloadJob(string Text) : IJob<BadPayloadJob>
{
    public static string JobName => ValueJob.JobName;

    public static void Serialize(Utf8JsonWriter writer, BadPayloadJob job)
    {
        writer.WriteStartObject();
        writer.WriteString("value", job.Text);
        writer.WriteEndObject();
    }

    public static BadPayloadJob Deserialize(ReadOnlySpan<byte> utf8Json) => throw new NotSupportedException();
}
