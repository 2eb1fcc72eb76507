namespace Jobs.Sdk.Generators.Tests;

/// <summary>
/// Required members the serializer does not carry (a required field, a required property without a public getter): the
/// reader could not set them when it creates the object, so generated code would not compile (CS9035). The generator
/// emits nothing for such a job (JOBS010 says why) unless a [SetsRequiredMembers] constructor sets them.
/// </summary>
public class RequiredMemberGeneratorTests
{
    [Fact]
    public void Required_members_the_serializer_cannot_set_generate_nothing_instead_of_code_that_does_not_compile()
    {
        var output = GeneratorHarness.Run("""
            using Jobs.Sdk;
            namespace App;
            [Job("required-field")] public partial class RequiredField { public required int Count; public string Name { get; set; } = ""; }
            [Job("required-hidden-getter")] public partial class RequiredHiddenGetter { public required string Secret { private get; init; } public string Show() => Secret; }
            public sealed class Part { public required string Code; }
            [Job("required-nested")] public partial record RequiredNested(Part Part);
            [Job("required-property")] public partial class RequiredProperty { public required string Name { get; init; } }
            """).AssertClean();

        Assert.False(output.Files.ContainsKey("App.RequiredField.g.cs"));
        Assert.False(output.Files.ContainsKey("App.RequiredHiddenGetter.g.cs"));
        Assert.False(output.Files.ContainsKey("App.RequiredNested.g.cs"));
        Assert.True(output.Files.ContainsKey("App.RequiredProperty.g.cs"));
    }

    [Fact]
    public void A_SetsRequiredMembers_constructor_lets_the_job_generate()
    {
        var output = GeneratorHarness.Run("""
            using System.Diagnostics.CodeAnalysis;
            using System.Text.Json.Serialization;
            using Jobs.Sdk;
            namespace App;
            [Job("sets-required")]
            public partial class SetsRequired
            {
                [SetsRequiredMembers] public SetsRequired(string name) { Name = name; Count = 1; }
                public string Name { get; }
                [JsonIgnore] public required int Count;
            }
            """).AssertClean();

        Assert.True(output.Files.ContainsKey("App.SetsRequired.g.cs"));
    }
}
