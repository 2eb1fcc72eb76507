using System.Reflection;

namespace Jobs.Sdk.Generators.Tests;

/// <summary>
/// A payload written by one version of a job type and read by another (a rolling deploy, or a job queued before a deploy):
/// each version is the real generator's output for that version's record, compiled and loaded side by side. Reading must
/// either give the handler the values that were pushed or fail the job with a decode error naming the member, never run
/// it with a silently different value.
/// </summary>
public class PayloadEvolutionTests
{
    private static int s_versions;

    [Fact]
    public void A_double_member_narrowed_to_float_fails_to_decode_a_value_beyond_float_range_instead_of_reading_infinity()
    {
        var v1 = Version("""[Job("evo")] public partial record J(double Value) { public static J Sample() => new(1e300); }""");
        var v2 = Version("""[Job("evo")] public partial record J(float Value);""");

        var payload = v1.Write();
        Assert.Equal("""{"value":1E+300}""", payload);
        Assert.Equal("Cannot decode job 'evo' member 'Value' at $.value: expected a number, found the number 1E+300", v2.Read(payload));
    }

    [Theory]
    [InlineData("""{"value":1e400}""", "1e400")]
    [InlineData("""{"value":-1e400}""", "-1e400")]
    public void A_number_beyond_double_range_is_a_decode_error_not_infinity(string payload, string number)
        => Assert.Equal($"Cannot decode job 'evo' member 'Value' at $.value: expected a number, found the number {number}",
            Version("""[Job("evo")] public partial record J(double Value);""").Read(payload));

    [Fact]
    public void Infinity_and_NaN_written_by_the_generator_still_read_back()
    {
        var version = Version("""
            [Job("evo")] public partial record J(double D, float F)
            {
                public static J Sample() => new(double.NegativeInfinity, float.NaN);
            }
            """);
        var payload = version.Write();
        Assert.Equal("""{"d":"-Infinity","f":"NaN"}""", payload);
        Assert.Equal("J { D = -Infinity, F = NaN }", version.Read(payload));
    }

    /// <summary>One version of the job type: its source, with the record <c>J</c> (and for writing, <c>J.Sample()</c>).</summary>
    private static JobVersion Version(string declarations)
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
        return new JobVersion(assembly.GetType("Evo.Codec")!, assembly.GetType("Evo.J")!);
    }

    private sealed record JobVersion(Type Codec, Type Job)
    {
        public string Read(string json) => (string)Codec.GetMethod("Read")!.Invoke(null, [json])!;

        public string Write() => (string)Codec.GetMethod("Write")!.Invoke(null, [Job.GetMethod("Sample")!.Invoke(null, null)])!;
    }
}
