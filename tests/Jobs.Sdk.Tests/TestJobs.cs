using System.Text.Json;

namespace Jobs.Sdk.Tests;

/// <summary>A hand-written <see cref="IJob{TSelf}"/> (what the source generator emits for [Job] types).</summary>
public sealed record ValueJob(int Value) : IJob<ValueJob>
{
    public static string JobName => "test.value";

    public static void Serialize(Utf8JsonWriter writer, ValueJob job)
    {
        writer.WriteStartObject();
        writer.WriteNumber("value", job.Value);
        writer.WriteEndObject();
    }

    public static ValueJob Deserialize(ReadOnlySpan<byte> utf8Json)
    {
        var reader = new Utf8JsonReader(utf8Json);
        int? value = null;
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JobDecodeException(JobName, null, "$", "expected an object");
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.GetString();
            reader.Read();
            if (name == "value")
            {
                if (reader.TokenType != JsonTokenType.Number)
                {
                    throw new JobDecodeException(JobName, "Value", "$.value", $"expected a number, found {reader.TokenType}");
                }

                value = reader.GetInt32();
            }
            else
            {
                reader.Skip();
            }
        }

        return new ValueJob(value ?? throw new JobDecodeException(JobName, "Value", "$.value", "required member is missing"));
    }
}

/// <summary>Same JSON shape as <see cref="ValueJob"/> under another name, with a per-type attempt limit and timeout.</summary>
public sealed record LimitedJob(int Value) : IJob<LimitedJob>
{
    public static string JobName => "test.limited";
    public static int? MaxAttempts => 2;
    public static TimeSpan? Timeout => TimeSpan.FromSeconds(5);
    public static void Serialize(Utf8JsonWriter writer, LimitedJob job) => ValueJob.Serialize(writer, new ValueJob(job.Value));
    public static LimitedJob Deserialize(ReadOnlySpan<byte> utf8Json) => new(ValueJob.Deserialize(utf8Json).Value);
}

/// <summary>A job whose name no handler is registered for in most tests.</summary>
public sealed record OrphanJob(int Value) : IJob<OrphanJob>
{
    public static string JobName => "test.orphan";
    public static void Serialize(Utf8JsonWriter writer, OrphanJob job) => ValueJob.Serialize(writer, new ValueJob(job.Value));
    public static OrphanJob Deserialize(ReadOnlySpan<byte> utf8Json) => new(ValueJob.Deserialize(utf8Json).Value);
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
