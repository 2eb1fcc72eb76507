using Microsoft.CodeAnalysis.Testing;
using V = Jobs.Sdk.Analyzers.Tests.Verify<Jobs.Sdk.Analyzers.JobDeclarationAnalyzer>;

namespace Jobs.Sdk.Analyzers.Tests;

/// <summary>
/// JOBS010 for a member or member type marked <c>[Obsolete(..., error: true)]</c>: generated code cannot name it (CS0619
/// cannot be silenced), so the job is left out with an actionable error instead of a build broken inside generated code.
/// </summary>
public class ObsoleteErrorMemberTests
{
    private const string Advice = "which the generated serializer cannot read or write (CS0619); keep it [Obsolete] without error: true while queued jobs drain, then remove it";

    [Fact]
    public Task JOBS010_for_members_and_member_types_obsolete_as_errors()
        => V.AnalyzerAsync("""
            using System;
            using Jobs.Sdk;
            namespace App;

            [Obsolete("gone", error: true)] public sealed record Gone(int A);

            [Job("positional")]
            public partial record Positional(int Code, [property: Obsolete("use Code", true)] int {|#0:OldCode|});

            [Job("property")]
            public partial record Property(int Code)
            {
                [Obsolete("use Code", error: true)] public string? {|#1:OldName|} { get; init; }
            }

            [Job("warning-only")]
            public partial record WarningOnly(int Code)
            {
                [Obsolete("use Code")] public string? OldName { get; init; }
            }
            """,
            V.Diagnostic("JOBS010").WithLocation(0).WithMessage(
                $"Job 'Positional' cannot be serialized by the generated serializer: member 'OldCode' (type 'int'): 'App.Positional.OldCode' is [Obsolete(..., error: true)], {Advice}"),
            V.Diagnostic("JOBS010").WithLocation(1).WithMessage(
                $"Job 'Property' cannot be serialized by the generated serializer: member 'OldName' (type 'string?'): 'App.Property.OldName' is [Obsolete(..., error: true)], {Advice}"));
}
