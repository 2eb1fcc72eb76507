using System.Text.Json;

namespace Jobs.Sdk.Testing;

/// <summary>
/// The JSON codec of the test jobs that carry one int: <c>{"name": 42}</c>. Strict like generated code: the payload
/// must be an object, the member a number and present; unknown members are skipped.
/// </summary>
public static class IntMemberJson
{
    public static void Write(Utf8JsonWriter writer, string member, int value)
    {
        writer.WriteStartObject();
        writer.WriteNumber(member, value);
        writer.WriteEndObject();
    }

    public static int Read(ReadOnlySpan<byte> utf8Json, string jobName, string member, string memberName)
    {
        var reader = new Utf8JsonReader(utf8Json);
        int? value = null;
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JobDecodeException(jobName, null, "$", "expected an object");
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.GetString();
            reader.Read();
            if (name == member)
            {
                if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt32(out var v))
                {
                    throw new JobDecodeException(jobName, memberName, "$." + member, $"expected a number, found {reader.TokenType}");
                }

                value = v;
            }
            else
            {
                reader.Skip();
            }
        }

        return value ?? throw new JobDecodeException(jobName, memberName, "$." + member, "required member is missing");
    }
}
