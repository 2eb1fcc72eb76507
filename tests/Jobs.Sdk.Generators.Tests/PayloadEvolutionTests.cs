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
    [Fact]
    public void A_double_member_narrowed_to_float_fails_to_decode_a_value_beyond_float_range_instead_of_reading_infinity()
    {
        var v1 = CompiledJob.Compile("""[Job("evo")] public partial record J(double Value) { public static J Sample() => new(1e300); }""");
        var v2 = CompiledJob.Compile("""[Job("evo")] public partial record J(float Value);""");

        var payload = v1.Write();
        Assert.Equal("""{"value":1E+300}""", payload);
        Assert.Equal("Cannot decode job 'evo' member 'Value' at $.value: expected a number, found the number 1E+300", v2.Read(payload));
    }

    [Theory]
    [InlineData("""{"value":1e400}""", "1e400")]
    [InlineData("""{"value":-1e400}""", "-1e400")]
    public void A_number_beyond_double_range_is_a_decode_error_not_infinity(string payload, string number)
        => Assert.Equal($"Cannot decode job 'evo' member 'Value' at $.value: expected a number, found the number {number}",
            CompiledJob.Compile("""[Job("evo")] public partial record J(double Value);""").Read(payload));

    [Fact]
    public void Infinity_and_NaN_written_by_the_generator_still_read_back()
    {
        var version = CompiledJob.Compile("""
            [Job("evo")] public partial record J(double D, float F)
            {
                public static J Sample() => new(double.NegativeInfinity, float.NaN);
            }
            """);
        var payload = version.Write();
        Assert.Equal("""{"d":"-Infinity","f":"NaN"}""", payload);
        Assert.Equal("J { D = -Infinity, F = NaN }", version.Read(payload));
    }
    [Theory]
    [InlineData("""{"value":1}garbage""")]
    [InlineData("""{"value":1}{"value":2}""")]
    [InlineData("""{"value":1}]""")]
    public void Content_after_the_payload_object_is_a_decode_error(string payload)
        => Assert.StartsWith("Cannot decode job 'evo' at $: ",
            CompiledJob.Compile("""[Job("evo")] public partial record J(int Value);""").Read(payload));

    [Fact]
    public void Whitespace_after_the_payload_object_still_reads()
        => Assert.Equal("J { Value = 1 }", CompiledJob.Compile("""[Job("evo")] public partial record J(int Value);""").Read("{\"value\":1}\n \t"));

    [Theory]
    [InlineData("""{"level":"Low, High"}""", "'Low, High'")]
    [InlineData("""{"level":"Low,High"}""", "'Low,High'")]
    [InlineData("""{"level":"1, High"}""", "'1, High'")]
    public void A_combination_of_names_for_an_enum_without_Flags_is_a_decode_error_naming_the_member(string payload, string text)
        => Assert.Equal($"Cannot decode job 'evo' member 'Level' at $.level: expected a Level name, found {text} (a combination of names, but Level is not a [Flags] enum)",
            CompiledJob.Compile("""public enum Level { Low = 1, High = 2 } [Job("evo")] public partial record J(Level Level);""").Read(payload));

    [Theory]
    [InlineData("""{"level":"High"}""", "High")]
    [InlineData("""{"level":"high"}""", "High")]
    [InlineData("""{"level":2}""", "High")]
    [InlineData("""{"level":"7"}""", "7")]
    [InlineData("""{"level":7}""", "7")]
    public void An_enum_without_Flags_still_reads_a_name_or_a_number(string payload, string value)
        => Assert.Equal($"J {{ Level = {value} }}",
            CompiledJob.Compile("""public enum Level { Low = 1, High = 2 } [Job("evo")] public partial record J(Level Level);""").Read(payload));

    [Theory]
    [InlineData("""{"access":"Read, Write"}""", "Read, Write")]
    [InlineData("""{"access":"Read,Write,Delete"}""", "Read, Write, Delete")]
    [InlineData("""{"access":"3"}""", "Read, Write")]
    public void A_Flags_enum_still_reads_a_combination_of_names(string payload, string value)
        => Assert.Equal($"J {{ Access = {value} }}",
            CompiledJob.Compile("""[Flags] public enum Access { Read = 1, Write = 2, Delete = 4 } [Job("evo")] public partial record J(Access Access);""").Read(payload));
}
