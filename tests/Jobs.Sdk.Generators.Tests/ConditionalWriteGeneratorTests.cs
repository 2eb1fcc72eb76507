namespace Jobs.Sdk.Generators.Tests;

/// <summary>
/// <c>[JsonIgnore(Condition = WhenWritingDefault / WhenWritingNull)]</c> leaves a member out of the payload; the reader
/// then gives the member the value it has when missing: its constructor parameter's default or its property initializer.
/// When that is not the value that was left out, the member is written anyway, so the handler gets the value pushed.
/// </summary>
public class ConditionalWriteGeneratorTests
{
    [Fact]
    public void A_default_left_out_is_written_when_the_constructor_default_or_the_initializer_would_read_back_another_value()
    {
        var job = CompiledJob.Compile("""
            [Job("evo")]
            public partial record J(
                [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] int Retries = 3,
                [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Note = "none")
            {
                [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public int Limit { get; init; } = 10;

                public static J Sample() => new(0, null) { Limit = 0 };
            }
            """);

        var payload = job.Write();
        Assert.Equal("J { Retries = 0, Note = , Limit = 0 }", job.Read(payload));
        Assert.Equal("""{"retries":0,"note":null,"limit":0}""", payload);
    }

    [Fact]
    public void A_default_left_out_stays_out_when_it_reads_back_as_itself()
    {
        var job = CompiledJob.Compile("""
            [Job("evo")]
            public partial record J(
                [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] int Retries = 0,
                [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Note = null)
            {
                [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public int Limit { get; init; }
                [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Tag { get; init; } = null;

                public static J Sample() => new(0, null) { Limit = 0 };
            }
            """);

        var payload = job.Write();
        Assert.Equal("{}", payload);
        Assert.Equal("J { Retries = 0, Note = , Limit = 0, Tag =  }", job.Read(payload));
    }
}
