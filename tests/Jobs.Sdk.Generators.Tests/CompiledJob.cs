using System.Reflection;

namespace Jobs.Sdk.Generators.Tests;

/// <summary>
/// One version of a job type <c>Evo.J</c>, compiled with the real generator and loaded (each in its own assembly, so two
/// versions of the same record live side by side): <see cref="Write"/> serializes <c>J.Sample()</c>, <see cref="Read"/>
/// decodes a payload into <c>J.ToString()</c> or the decode error's message.
/// </summary>
internal sealed record CompiledJob(Type Codec, Type Job)
{
    private static int s_versions;

    /// <summary>One version of the job type: its source, with the record <c>J</c> (and for writing, <c>J.Sample()</c>).</summary>
    public static CompiledJob Compile(string declarations)
    {
        var source = "using System; using System.Collections.Generic; using System.Text.Json.Serialization; using Jobs.Sdk;\nnamespace Evo;\n"
            + declarations + """

            public static class Codec
            {
                public static string Read(string json)
                {
                    try { return Decode<J>(json); }
                    catch (JobDecodeException e) { return e.Message; }
                }

                public static string Write(J job) => Encode(job);

                private static string Decode<T>(string json) where T : IJob<T>
                    => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{T.Deserialize(System.Text.Encoding.UTF8.GetBytes(json))}");

                private static string Encode<T>(T job) where T : IJob<T>
                {
                    var buffer = new System.Buffers.ArrayBufferWriter<byte>();
                    using (var writer = new System.Text.Json.Utf8JsonWriter(buffer)) { T.Serialize(writer, job); }
                    return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
                }
            }
            """;
        var output = GeneratorHarness.Run(source).AssertClean();
        var compilation = output.Compilation.WithAssemblyName("Evo" + Interlocked.Increment(ref s_versions).ToString(System.Globalization.CultureInfo.InvariantCulture));
        using var stream = new MemoryStream();
        var emit = compilation.Emit(stream);
        Assert.True(emit.Success, string.Join("\n", emit.Diagnostics));
        var assembly = Assembly.Load(stream.ToArray());
        return new CompiledJob(assembly.GetType("Evo.Codec")!, assembly.GetType("Evo.J")!);
    }

    public string Read(string json) => (string)Codec.GetMethod("Read")!.Invoke(null, [json])!;

    public string Write() => (string)Codec.GetMethod("Write")!.Invoke(null, [Job.GetMethod("Sample")!.Invoke(null, null)])!;
}
