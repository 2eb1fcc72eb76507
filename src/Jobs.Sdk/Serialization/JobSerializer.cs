using System.Buffers;
using System.Text.Json;

namespace Jobs.Sdk;

/// <summary>Serializes job objects to UTF-8 JSON through their static <see cref="IJob{TSelf}"/> members.</summary>
internal static class JobSerializer
{
    [ThreadStatic] private static ArrayBufferWriter<byte>? t_buffer;
    [ThreadStatic] private static Utf8JsonWriter? t_writer;

    public static byte[] Serialize<TJob>(TJob job) where TJob : IJob<TJob>
    {
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(256);
        var writer = t_writer ??= new Utf8JsonWriter(buffer, new JsonWriterOptions { SkipValidation = false });
        buffer.ResetWrittenCount();
        writer.Reset(buffer);
        try
        {
            TJob.Serialize(writer, job);
            writer.Flush();
            return buffer.WrittenSpan.ToArray();
        }
        finally
        {
            writer.Reset(Stream.Null);
            if (buffer.Capacity > 64 * 1024)
            {
                t_buffer = null;
            }
        }
    }
}
