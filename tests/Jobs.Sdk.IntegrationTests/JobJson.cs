using System.Buffers;
using System.Text.Json;
using Jobs.Sdk;

namespace Jobs.Sdk.IntegrationTests;

/// <summary>Calls a job type's generated serializer through its static <see cref="IJob{TSelf}"/> members.</summary>
internal static class JobJson
{
    public static byte[] Serialize<T>(T job) where T : IJob<T>
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            T.Serialize(writer, job);
        }

        return buffer.WrittenSpan.ToArray();
    }

    public static T Deserialize<T>(byte[] json) where T : IJob<T> => T.Deserialize(json);

    public static T Deserialize<T>(string json) where T : IJob<T> => T.Deserialize(System.Text.Encoding.UTF8.GetBytes(json));

    public static string Name<T>() where T : IJob<T> => T.JobName;

    public static int? MaxAttempts<T>() where T : IJob<T> => T.MaxAttempts;

    public static TimeSpan? Timeout<T>() where T : IJob<T> => T.Timeout;
}
