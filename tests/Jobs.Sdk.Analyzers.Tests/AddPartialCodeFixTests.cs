using V = Jobs.Sdk.Analyzers.Tests.VerifyFix<Jobs.Sdk.Analyzers.JobDeclarationAnalyzer, Jobs.Sdk.Analyzers.AddPartialCodeFixProvider>;

namespace Jobs.Sdk.Analyzers.Tests;

public class AddPartialCodeFixTests
{
    [Fact]
    public Task Adds_partial_after_existing_modifiers()
        => V.CodeFixAsync("""
            using Jobs.Sdk;
            [Job("send-email")]
            public sealed record {|#0:SendEmail|}(string To);
            """, """
            using Jobs.Sdk;
            [Job("send-email")]
            public sealed partial record SendEmail(string To);
            """,
            V.Diagnostic("JOBS004").WithLocation(0).WithArguments("SendEmail", "the Jobs.Sdk generator implements IJob<SendEmail> in it"));

    [Fact]
    public Task Adds_partial_without_modifiers_keeping_indentation()
        => V.CodeFixAsync("""
            using Jobs.Sdk;
            namespace App
            {
                [Job("resize")]
                struct {|#0:Resize|} { }
            }
            """, """
            using Jobs.Sdk;
            namespace App
            {
                [Job("resize")]
                partial struct Resize { }
            }
            """,
            V.Diagnostic("JOBS004").WithLocation(0).WithArguments("Resize", "the Jobs.Sdk generator implements IJob<Resize> in it"));

    [Fact]
    public Task Adds_partial_to_containing_types()
        => V.CodeFixAsync("""
            using Jobs.Sdk;
            public class {|#0:Outer|}
            {
                [Job("nested")]
                public class {|#1:Nested|} { }
            }
            """, """
            using Jobs.Sdk;
            public partial class Outer
            {
                [Job("nested")]
                public partial class Nested { }
            }
            """,
            V.Diagnostic("JOBS004").WithLocation(0).WithArguments("Outer", "it contains job type 'Nested', which the Jobs.Sdk generator extends"),
            V.Diagnostic("JOBS004").WithLocation(1).WithArguments("Outer.Nested", "the Jobs.Sdk generator implements IJob<Nested> in it"));
}
