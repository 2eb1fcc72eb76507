namespace Jobs.Sdk.Generators.Tests;

/// <summary>
/// Members and types the generated code cannot name without an error or a warning no <c>CS0618</c> pragma covers:
/// <c>[Obsolete(..., error: true)]</c> (CS0619), <c>[Obsolete]</c> with a custom <c>DiagnosticId</c>, and <c>[Experimental]</c>.
/// </summary>
public class ObsoleteErrorGeneratorTests
{
    [Fact]
    public void Obsolete_with_a_custom_diagnostic_id_and_experimental_members_and_types_compile_without_diagnostics()
    {
        GeneratorHarness.Run("""
            using System;
            using System.Diagnostics.CodeAnalysis;
            using Jobs.Sdk;
            namespace App;
            [Obsolete("use Part2", DiagnosticId = "APP001")] public sealed record Part(int Code);
            [Experimental("APP002")] public sealed record Preview(int Level);
            public enum Mode { On, [Obsolete("gone", DiagnosticId = "APP003")] Off, [Experimental("APP004")] Auto }
            [Job("custom-ids")]
            public partial record CustomIds([property: Obsolete("use Code", DiagnosticId = "APP005")] int OldCode, Mode Mode)
            {
                [Experimental("APP006")] public string? Trial { get; init; }
            #pragma warning disable APP001, APP002
                public Part? Part { get; init; }
                public Preview? Preview { get; set; }
            #pragma warning restore APP001, APP002
            }
            """).AssertClean();
    }

    [Theory]
    [InlineData("public partial record ObsoleteErrorMember(int Code, [property: Obsolete(\"use Code\", true)] int OldCode);")]
    [InlineData("public partial record ObsoleteErrorMember(int Code) { [Obsolete(\"use Code\", error: true)] public string? OldName { get; init; } }")]
    [InlineData("public partial record ObsoleteErrorMember(int Code, Gone? Gone);")]
    public void A_member_or_member_type_obsolete_as_an_error_is_not_named_by_generated_code(string declaration)
    {
        // CS0619 cannot be silenced: the generator leaves the job out and the analyzer says why (JOBS010), instead of a
        // build broken inside generated code.
        var output = GeneratorHarness.Run($$"""
            using System;
            using Jobs.Sdk;
            namespace App;
            [Obsolete("gone", error: true)] public sealed record Gone(int A);
            [Job("obsolete-error-member")]
            {{declaration}}
            """);

        Assert.DoesNotContain(output.Diagnostics, d => d.Location.SourceTree?.FilePath.EndsWith(".g.cs", StringComparison.Ordinal) == true);
        Assert.False(output.Files.ContainsKey("App.ObsoleteErrorMember.g.cs"));
    }
}
