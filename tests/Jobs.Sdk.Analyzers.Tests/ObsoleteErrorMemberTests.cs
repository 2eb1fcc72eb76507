using Microsoft.CodeAnalysis.Testing;
using V = Jobs.Sdk.Analyzers.Tests.Verify<Jobs.Sdk.Analyzers.JobDeclarationAnalyzer>;

namespace Jobs.Sdk.Analyzers.Tests;

/// <summary>
/// JOBS010 for what generated code cannot use although it is <c>[Obsolete(..., error: true)]</c> (CS0619 cannot be
/// silenced): a member type, a member declared on a generic type. Other such members, required and key members
/// included, are read and written through accessors or named inside generated members marked obsolete.
/// </summary>
public class ObsoleteErrorMemberTests
{
    private const string Advice = "keep it [Obsolete] without error: true while queued jobs drain, then remove it";

    [Fact]
    public Task JOBS010_for_member_types_and_members_of_generic_types_obsolete_as_errors_only()
        => V.AnalyzerAsync("""
            using System;
            using Jobs.Sdk;
            namespace App;

            [Obsolete("gone", error: true)] public sealed record Gone(int A);

            #pragma warning disable CS9042
            [Job("required")]
            public partial record Required(int Code)
            {
                [Obsolete("use Code", error: true)] public required string OldName { get; init; }
            }
            #pragma warning restore CS9042

            [Job("keys", Unique = true, ConcurrencyLimit = 1)]
            public partial record Keys([property: UniqueKey, Obsolete("use Code", true)] string Tenant, int Code)
            {
                [UniqueKey] [Obsolete("use Code", error: true)] public long Shard { get; init; }
                [ConcurrencyKey] [Obsolete("gone", error: true)] [System.Text.Json.Serialization.JsonIgnore] public int Region;
            }

            // Inside an obsolete type (the user's own use of Gone is then allowed), the generated code is not.
            [Obsolete("replaced")]
            [Job("type")]
            public partial record OfType(int Code, Gone? {|#0:Gone|});

            public abstract record Base<T>(T Value) { [Obsolete("use Value", error: true)] public string? Old { get; init; } }

            [Job("generic-base")]
            public partial record {|#1:OfGeneric|}(int Value) : Base<int>(Value);

            [Job("positional")]
            public partial record Positional(int Code, [property: Obsolete("use Code", true)] int OldCode);

            [Job("property")]
            public partial record Property(int Code)
            {
                [Obsolete("use Code", error: true)] public string? OldName { get; init; }
            }
            """,
            V.Diagnostic("JOBS010").WithLocation(0).WithMessage(
                "Job 'OfType' cannot be serialized by the generated serializer: member 'Gone' (type 'Gone?'): 'App.Gone' is "
                + $"[Obsolete(..., error: true)], which the generated serializer cannot read or write (CS0619); {Advice}"),
            V.Diagnostic("JOBS010").WithLocation(1).WithMessage(
                "Job 'OfGeneric' cannot be serialized by the generated serializer: member 'Old' (type 'string?'): 'App.Base<int>.Old' is "
                + "[Obsolete(..., error: true)] and declared on a generic type, whose [UnsafeAccessor]s the generated serializer does not "
                + $"emit (naming it is CS0619); {Advice}"));
}
