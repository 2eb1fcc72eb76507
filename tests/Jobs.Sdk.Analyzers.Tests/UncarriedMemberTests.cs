using D = Jobs.Sdk.Analyzers.Tests.Verify<Jobs.Sdk.Analyzers.JobDeclarationAnalyzer>;

namespace Jobs.Sdk.Analyzers.Tests;

/// <summary>
/// Members the payload does not carry: JOBS013 for a public property whose getter is not public (the generated writer
/// cannot read it, so the payload never carries the value the pusher set; System.Text.Json skips it too), JOBS010 for a
/// required member the reader cannot set (the generated code would not compile).
/// </summary>
public class UncarriedMemberTests
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

    [Fact]
    public Task JOBS013_a_public_base_property_hidden_by_a_new_one()
        => D.AnalyzerAsync("""
            using Jobs.Sdk;
            namespace App;
            public class JobBase
            {
                public int {|#0:Value|} { get; set; }
                public string Note { get; set; } = "";
                public string Shown => Note + "!";
                public virtual int Size { get; set; }
            }
            [Job("hidden-base")]
            public partial class HidingJob : JobBase
            {
                public new string Value { get; set; } = "";
                public new string Note { get => base.Note; set => base.Note = value; }
                public new string Shown => "x";
                public override int Size { get; set; }
                public Part Part { get; set; } = new();
            }
            public class PartBase { public string {|#1:Code|} { get; init; } = ""; }
            public sealed class Part : PartBase { public new int Code { get; init; } }
            """,
            D.Diagnostic("JOBS013").WithLocation(0).WithMessage(
                "'JobBase.Value' is not carried by job 'HidingJob': it is hidden by 'HidingJob.Value' (declared with new), so it is not serialized; a worker sees its default value (mark it [JsonIgnore] if that is intended)"),
            D.Diagnostic("JOBS013").WithLocation(1).WithArguments("PartBase.Code", "HidingJob", "it is hidden by 'Part.Code' (declared with new), so it is not serialized"));

    [Fact]
    public Task JOBS010_a_required_member_the_serializer_cannot_set()
        => D.AnalyzerAsync("""
            using Jobs.Sdk;
            namespace App;
            [Job("required-field")] public partial class {|#0:RequiredField|} { public required int Count; }
            [Job("required-hidden-getter")] public partial class {|#1:RequiredHiddenGetter|} { public required string Secret { private get; init; } public string Show() => Secret; }
            public sealed class Part { public required string Code; }
            [Job("required-nested")] public partial record RequiredNested(Part {|#2:Part|});
            """,
            D.Diagnostic("JOBS010").WithLocation(0).WithMessage(
                "Job 'RequiredField' cannot be serialized by the generated serializer: type 'RequiredField': required member 'RequiredField.Count' of 'App.RequiredField' is not carried by the generated serializer, which must set every required member when it creates the object; make it a property with a public get and a public init or set, or give the type a [SetsRequiredMembers] constructor"),
            D.Diagnostic("JOBS010").WithLocation(1).WithMessage(
                "Job 'RequiredHiddenGetter' cannot be serialized by the generated serializer: type 'RequiredHiddenGetter': required member 'RequiredHiddenGetter.Secret' of 'App.RequiredHiddenGetter' is not carried by the generated serializer, which must set every required member when it creates the object; make it a property with a public get and a public init or set, or give the type a [SetsRequiredMembers] constructor"),
            D.Diagnostic("JOBS010").WithLocation(2).WithMessage(
                "Job 'RequiredNested' cannot be serialized by the generated serializer: member 'Part' (type 'Part'): required member 'Part.Code' of 'App.Part' is not carried by the generated serializer, which must set every required member when it creates the object; make it a property with a public get and a public init or set, or give the type a [SetsRequiredMembers] constructor; use a supported type or name a JsonSerializerContext with [Job(..., JsonContext = typeof(...))]"));
}
