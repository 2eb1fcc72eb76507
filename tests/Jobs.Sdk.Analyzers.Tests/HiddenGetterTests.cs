using D = Jobs.Sdk.Analyzers.Tests.Verify<Jobs.Sdk.Analyzers.JobDeclarationAnalyzer>;

namespace Jobs.Sdk.Analyzers.Tests;

/// <summary>
/// JOBS013 for a public property whose getter is not public: the generated writer cannot read it, so the payload never
/// carries the value the pusher set (System.Text.Json skips it too).
/// </summary>
public class HiddenGetterTests
{
    [Fact]
    public Task JOBS013_a_public_settable_property_with_a_non_public_getter()
        => D.AnalyzerAsync("""
            using System.Text.Json.Serialization;
            using Jobs.Sdk;
            namespace App;
            [Job("hidden-getter")]
            public partial class HiddenGetter
            {
                public int Kept { get; set; }
                public string {|#0:Secret|} { private get; set; } = "";
                public string {|#1:Token|} { internal get; init; } = "";
                [JsonIgnore] public string Ignored { private get; set; } = "";
                public string WriteOnly { set => Kept = value.Length; }
                public string Use() => Secret + Token + Ignored;
                public Part Part { get; set; } = new();
            }
            public sealed class Part
            {
                public int {|#2:Code|} { protected get; set; }
                public int Read() => Code;
            }
            """,
            D.Diagnostic("JOBS013").WithLocation(0).WithMessage(
                "'HiddenGetter.Secret' is not carried by job 'HiddenGetter': its getter is not public, so it is not written to the payload; a worker sees its default value (mark it [JsonIgnore] if that is intended)"),
            D.Diagnostic("JOBS013").WithLocation(1).WithArguments("HiddenGetter.Token", "HiddenGetter", "its getter is not public, so it is not written to the payload"),
            D.Diagnostic("JOBS013").WithLocation(2).WithArguments("Part.Code", "HiddenGetter", "its getter is not public, so it is not written to the payload"));
}
