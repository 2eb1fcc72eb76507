using Microsoft.CodeAnalysis.Testing;
using V = Jobs.Sdk.Analyzers.Tests.Verify<Jobs.Sdk.Analyzers.JobDeclarationAnalyzer>;

namespace Jobs.Sdk.Analyzers.Tests;

/// <summary>
/// JOBS010 for what generated code must name although it is <c>[Obsolete(..., error: true)]</c> (CS0619 cannot be
/// silenced): a member type, a required or key member. Other such members are read and written through accessors.
/// </summary>
public class ObsoleteErrorMemberTests
{
    private const string Advice = "keep it [Obsolete] without error: true while queued jobs drain, then remove it";

    [Fact]
    public Task JOBS010_for_required_members_and_member_types_obsolete_as_errors_only()
        => V.AnalyzerAsync("""
            using System;
            using Jobs.Sdk;
            namespace App;

            [Obsolete("gone", error: true)] public sealed record Gone(int A);

            [Job("required")]
            public partial record Required(int Code)
            {
                [Obsolete("use Code", error: true)] public required string {|#0:OldName|} { get; init; }
            }

            // Inside an obsolete type (the user's own use of Gone is then allowed), the generated code is not.
            [Obsolete("replaced")]
            [Job("type")]
            public partial record OfType(int Code, Gone? {|#1:Gone|});

            [Job("positional")]
            public partial record Positional(int Code, [property: Obsolete("use Code", true)] int OldCode);

            [Job("property")]
            public partial record Property(int Code)
            {
                [Obsolete("use Code", error: true)] public string? OldName { get; init; }
            }
            """,
            V.Diagnostic("JOBS010").WithLocation(0).WithMessage(
                "Job 'Required' cannot be serialized by the generated serializer: member 'OldName' (type 'string'): 'App.Required.OldName' is "
                + "[Obsolete(..., error: true)] and required, a key member or declared on a generic type, which the generated serializer "
                + $"must name (CS0619); {Advice}"),
            V.Diagnostic("JOBS010").WithLocation(1).WithMessage(
                "Job 'OfType' cannot be serialized by the generated serializer: member 'Gone' (type 'Gone?'): 'App.Gone' is "
                + $"[Obsolete(..., error: true)], which the generated serializer cannot read or write (CS0619); {Advice}"));
}
