using V = Jobs.Sdk.Analyzers.Tests.Verify<Jobs.Sdk.Analyzers.JobDeclarationAnalyzer>;

namespace Jobs.Sdk.Analyzers.Tests;

public class JobDeclarationAnalyzerTests
{
    [Fact]
    public Task Valid_jobs_report_nothing()
        => V.AnalyzerAsync("""
            using Jobs.Sdk;
            [Job("send-email", MaxAttempts = 1, TimeoutSeconds = 30)]
            public partial record SendEmail(string To);
            [Job("resize")]
            public partial struct Resize { public int Width { get; set; } }
            public partial class Outer
            {
                public partial class Middle
                {
                    [Job("nested")]
                    internal sealed partial class Nested { }
                }
            }
            public class NotAJob { }
            """);

    [Fact]
    public Task JOBS004_non_partial_job_type()
        => V.AnalyzerAsync("""
            using Jobs.Sdk;
            [Job("send-email")]
            public record {|#0:SendEmail|}(string To);
            """,
            V.Diagnostic("JOBS004").WithLocation(0)
                .WithMessage("'SendEmail' must be declared partial: the Jobs.Sdk generator implements IJob<SendEmail> in it"));

    [Fact]
    public Task JOBS004_job_nested_in_non_partial_type()
        => V.AnalyzerAsync("""
            using Jobs.Sdk;
            public partial class Outer
            {
                public static class {|#0:Middle|}
                {
                    [Job("nested")]
                    public partial class Nested { }
                }
            }
            """,
            V.Diagnostic("JOBS004").WithLocation(0)
                .WithMessage("'Outer.Middle' must be declared partial: it contains job type 'Nested', which the Jobs.Sdk generator extends"));

    [Fact]
    public Task JOBS005_generic_job_type()
        => V.AnalyzerAsync("""
            using Jobs.Sdk;
            [Job("generic")]
            public partial class {|#0:Generic|}<T> { }
            public partial class Container<T>
            {
                [Job("inner")]
                public partial class {|#1:Inner|} { }
            }
            """,
            V.Diagnostic("JOBS005").WithLocation(0)
                .WithMessage("Job type 'Generic<T>' cannot be generic or nested in a generic type: a job name identifies exactly one closed type"),
            V.Diagnostic("JOBS005").WithLocation(1).WithArguments("Container<T>.Inner"));

    [Fact]
    public Task JOBS006_abstract_or_static_job_type()
        => V.AnalyzerAsync("""
            using Jobs.Sdk;
            [Job("abstract")]
            public abstract partial class {|#0:Base|} { }
            [Job("static")]
            public static partial class {|#1:Helpers|} { }
            """,
            V.Diagnostic("JOBS006").WithLocation(0)
                .WithMessage("Job type 'Base' cannot be abstract: workers create it from its JSON payload"),
            V.Diagnostic("JOBS006").WithLocation(1).WithArguments("Helpers", "static", "workers create it from its JSON payload"));

    [Fact]
    public Task JOBS006_file_local_or_ref_struct_job_type()
        => V.AnalyzerAsync("""
            using Jobs.Sdk;
            [Job("file")]
            file partial record {|#0:FileJob|}(int A);
            file partial class Outer { [Job("file-nested")] public partial record {|#1:Inner|}(int A); }
            [Job("ref")]
            public ref partial struct {|#2:RefJob|} { public int A { get; set; } }
            """,
            V.Diagnostic("JOBS006").WithLocation(0).WithMessage(
                "Job type 'FileJob' cannot be file-local: the generator completes it in a file of its own, which cannot see a 'file' type; make it internal"),
            V.Diagnostic("JOBS006").WithLocation(1).WithArguments("Outer.Inner", "file-local",
                "the generator completes it in a file of its own, which cannot see a 'file' type; make it internal"),
            V.Diagnostic("JOBS006").WithLocation(2).WithMessage(
                "Job type 'RefJob' cannot be a ref struct: IJob<T>, the queue and the handlers take the job as a type argument, which a ref struct cannot be; make it a struct"));

    [Fact]
    public Task JOBS007_invalid_names()
        => V.AnalyzerAsync("""
            using Jobs.Sdk;
            [Job({|#0:""|})] public partial class Empty { }
            [Job({|#1:"   "|})] public partial class Blank { }
            [Job({|#2:"bad\nname"|})] public partial class Control { }
            [Job({|#3:"LONG"|})] public partial class TooLong { }
            [Job({|#4:null!|})] public partial class Null { }
            """.Replace("LONG", new string('x', 256), StringComparison.Ordinal),
            V.Diagnostic("JOBS007").WithLocation(0).WithMessage("Job name '' is invalid: it is empty"),
            V.Diagnostic("JOBS007").WithLocation(1).WithMessage("Job name '   ' is invalid: it is only whitespace"),
            V.Diagnostic("JOBS007").WithLocation(2).WithMessage("Job name 'bad\\u000Aname' is invalid: it contains the control character U+000A at index 3"),
            V.Diagnostic("JOBS007").WithLocation(3).WithMessage("Job name '" + new string('x', 37) + "...' is invalid: it is 256 characters long (at most 255)"),
            V.Diagnostic("JOBS007").WithLocation(4).WithMessage("Job name null is invalid: it is empty"));

    [Fact]
    public Task JOBS007_a_name_that_starts_or_ends_with_whitespace_but_not_one_with_inner_spaces()
        => V.AnalyzerAsync("""
            using Jobs.Sdk;
            [Job({|#0:"send-email "|})] public partial class Trailing { }
            [Job({|#1:" send-email"|})] public partial class Leading { }
            [Job({|#2:"send-email\u00A0"|})] public partial class NoBreak { }
            [Job("send email")] public partial class Inner { }
            """,
            V.Diagnostic("JOBS007").WithLocation(0).WithMessage("Job name 'send-email ' is invalid: it starts or ends with whitespace"),
            V.Diagnostic("JOBS007").WithLocation(1).WithMessage("Job name ' send-email' is invalid: it starts or ends with whitespace"),
            V.Diagnostic("JOBS007").WithLocation(2).WithMessage("Job name 'send-email\u00A0' is invalid: it starts or ends with whitespace"));

    [Fact]
    public Task JOBS007_an_unpaired_surrogate_which_no_store_can_hold_but_not_a_pair()
        => V.AnalyzerAsync("""
            using Jobs.Sdk;
            [Job({|#0:"ab\uD800"|})] public partial class Lone { }
            [Job("rocket-\uD83D\uDE80")] public partial class Pair { }
            """,
            V.Diagnostic("JOBS007").WithLocation(0).WithMessage("Job name 'ab\\uD800' is invalid: it contains an unpaired surrogate (U+D800) at index 2"));

    [Fact]
    public Task JOBS007_name_of_255_characters_is_valid()
        => V.AnalyzerAsync("using Jobs.Sdk;\n[Job(\"" + new string('x', 255) + "\")] public partial class Longest { }\n");

    [Fact]
    public Task JOBS008_invalid_settings()
        => V.AnalyzerAsync("""
            using Jobs.Sdk;
            [Job("a", {|#0:MaxAttempts = 0|}, {|#1:TimeoutSeconds = -5|})] public partial class A { }
            [Job("b", {|#2:TimeoutSeconds = 0|})] public partial class B { }
            [Job("c", MaxAttempts = 1, TimeoutSeconds = 1)] public partial class C { }
            """,
            V.Diagnostic("JOBS008").WithLocation(0)
                .WithMessage("MaxAttempts = 0 is invalid: it must be at least 1 (leave it unset to use the queue's retry strategy)"),
            V.Diagnostic("JOBS008").WithLocation(1)
                .WithMessage("TimeoutSeconds = -5 is invalid: it must be greater than 0 (leave it unset for no timeout)"),
            V.Diagnostic("JOBS008").WithLocation(2).WithArguments("TimeoutSeconds", "0", "it must be greater than 0 (leave it unset for no timeout)"));

    [Fact]
    public Task JOBS003_duplicate_job_names()
        => V.AnalyzerAsync(
            [
                """
                using Jobs.Sdk;
                namespace App;
                [Job({|#0:"send-email"|})] public partial record SendEmail(string To);
                [Job("other")] public partial record Other;
                """,
                """
                using Jobs.Sdk;
                namespace App.Legacy;
                [Job({|#1:"send-email"|})] public partial record SendEmail(string Address);
                """,
            ],
            null,
            V.Diagnostic("JOBS003").WithLocation(0)
                .WithMessage("Job name 'send-email' of 'App.SendEmail' is also used by 'App.Legacy.SendEmail'; job names must be unique"),
            V.Diagnostic("JOBS003").WithLocation(1).WithArguments("send-email", "App.Legacy.SendEmail", "App.SendEmail"));

    [Fact]
    public Task JOBS003_names_differing_in_case_are_distinct()
        => V.AnalyzerAsync("""
            using Jobs.Sdk;
            [Job("send-email")] public partial record A;
            [Job("Send-Email")] public partial record B;
            """);
}
