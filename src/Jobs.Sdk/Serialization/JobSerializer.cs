using System.Buffers;
using System.Text.Json;

namespace Jobs.Sdk;

/// <summary>Serializes job objects to UTF-8 JSON through their static <see cref="IJob{TSelf}"/> members.</summary>
internal static class JobSerializer
{
    /// <summary>
    /// How many levels of objects and arrays a payload may nest: what workers read (<c>JobJsonServices</c>' reader, at
    /// System.Text.Json's default), so the writer refuses at push what no worker could decode.
    /// </summary>
    internal const int MaxDepth = 64;

    [ThreadStatic] private static ArrayBufferWriter<byte>? t_buffer;
    [ThreadStatic] private static Utf8JsonWriter? t_writer;

    public static byte[] Serialize<TJob>(TJob job) where TJob : IJob<TJob>
    {
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(256);
        // StrictJsonEncoder: the default encoder's bytes, but an unpaired surrogate (which it would write as U+FFFD) is refused,
        // also in what a job's JsonSerializerContext writes.
        var writer = t_writer ??= new Utf8JsonWriter(buffer, new JsonWriterOptions { SkipValidation = false, Encoder = StrictJsonEncoder.Instance, MaxDepth = MaxDepth });
        buffer.ResetWrittenCount();
        writer.Reset(buffer);
        try
        {
            try
            {
                TJob.Serialize(writer, job);
            }
            catch (StrictJsonEncoder.UnpairedSurrogateException e)
            {
                throw new ArgumentException(
                    $"Job '{TJob.JobName}' ({typeof(TJob).Name}) has a string containing an unpaired surrogate (U+{(int)e.Surrogate:X4}), which JSON cannot carry: "
                    + "it would be written as U+FFFD and the worker would get a different string. Remove it (text cut in the middle of a character, for example) before pushing.",
                    nameof(job), e);
            }
            catch (Exception e) when (e is InvalidOperationException or JsonException && writer.CurrentDepth >= MaxDepth)
            {
                // Utf8JsonWriter's InvalidOperationException, which System.Text.Json wraps in a JsonException when a
                // JsonSerializerContext was writing.
                throw new ArgumentException(
                    $"Job '{TJob.JobName}' ({typeof(TJob).Name}) is nested more than {MaxDepth} levels deep (objects and arrays, the payload's own object included), "
                    + $"which no worker reads: a job's JSON reader stops at {MaxDepth} levels, so the job could never run. "
                    + "Flatten the data (a list of nodes with parent ids instead of a chain of nested objects) before pushing.",
                    nameof(job), e);
            }
            catch (JsonException e)
            {
                // A value System.Text.Json wrote and then found to be no JSON, in a member the job's JsonSerializerContext
                // writes: a Half NaN or infinity (written raw, as NaN or Infinity) fails its own validation.
                throw new ArgumentException(
                    $"Job '{TJob.JobName}' ({typeof(TJob).Name}) member '{MemberAtFailure(writer, buffer)}' cannot be written as JSON by its JsonSerializerContext: {e.Message} "
                    + "A Half NaN or infinity, for example, is written by System.Text.Json as a bare NaN or Infinity, which is no JSON. "
                    + "Push a finite value (or null) instead, or let the context write such values as strings and read them back "
                    + "([JsonSourceGenerationOptions(NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)] on it).",
                    nameof(job), e);
            }

            writer.Flush();
            if (ContainsNul(buffer.WrittenSpan))
            {
                throw new ArgumentException(
                    $"Job '{TJob.JobName}' ({typeof(TJob).Name}) has a string containing the character U+0000 (NUL), which PostgreSQL's jsonb " +
                    "cannot store; the job is refused by every driver. Remove the character, or carry binary data as a byte[] member (Base64).",
                    nameof(job));
            }

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

    /// <summary>The member the payload was writing when <paramref name="writer"/> stopped (<see cref="PayloadMember"/>), or "(unknown)".</summary>
    private static string MemberAtFailure(Utf8JsonWriter writer, ArrayBufferWriter<byte> buffer)
    {
        try
        {
            writer.Flush();
        }
        catch (InvalidOperationException)
        {
            // Nothing more to flush; what was written is read as is.
        }

        return PayloadMember.LastWritten(buffer.WrittenSpan) ?? "(unknown)";
    }

    /// <summary>
    /// Whether <paramref name="json"/> holds the escape <c>\u0000</c> (how JSON writers write U+0000) outside an escaped
    /// backslash: a <c>\u0000</c> preceded by an odd number of backslashes is the text "\u0000", not a NUL.
    /// </summary>
    private static bool ContainsNul(ReadOnlySpan<byte> json)
    {
        var offset = 0;
        while (json[offset..].IndexOf("\\u0000"u8) is var found and >= 0)
        {
            var at = offset + found;
            var backslashes = 0;
            while (at - backslashes - 1 >= 0 && json[at - backslashes - 1] == (byte)'\\')
            {
                backslashes++;
            }

            if (backslashes % 2 == 0)
            {
                return true;
            }

            offset = at + 1;
        }

        return false;
    }
}
