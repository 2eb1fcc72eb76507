using V = Jobs.Sdk.Analyzers.Tests.Verify<Jobs.Sdk.Analyzers.JobDeclarationAnalyzer>;

namespace Jobs.Sdk.Analyzers.Tests;

/// <summary>
/// Key marks on members a job inherits from its base record count as the job's own (the generator keys the job by
/// them), so the flow checks see them too; diagnostics about them go on the [Job] attribute.
/// </summary>
public class InheritedKeyAnalyzerTests
{
    [Fact]
    public Task Inherited_key_marks_are_checked_like_the_jobs_own()
        => V.AnalyzerAsync("""
            using Jobs.Sdk;
            namespace App;
            public abstract record TenantBase
            {
                [UniqueKey, ConcurrencyKey] public string Tenant { get; init; } = "";
                [UniqueKey] public double Ratio { get; init; }
            }
            [{|#0:Job("a")|}] public partial record A(int Page) : TenantBase;
            [{|#1:Job("b", Unique = true, ConcurrencyLimit = 1)|}] public partial record B(int Page) : TenantBase;
            """,
            V.Diagnostic("JOBS020").WithLocation(0)
                .WithMessage("[UniqueKey] member 'Tenant' is invalid: 'A' does not set Unique = true on [Job], so its pushes are not unique and the key is never used; set Unique = true, or remove the attribute"),
            V.Diagnostic("JOBS020").WithLocation(0)
                .WithMessage("[UniqueKey] member 'Ratio' is invalid: 'A' does not set Unique = true on [Job], so its pushes are not unique and the key is never used; set Unique = true, or remove the attribute"),
            V.Diagnostic("JOBS021").WithLocation(0)
                .WithMessage("[UniqueKey] member 'Ratio' has type 'double', which cannot be a key: use string, Guid, bool, char, an integer type, an enum, DateTime, DateTimeOffset, DateOnly or TimeOnly (or a nullable of those)"),
            V.Diagnostic("JOBS023").WithLocation(0).WithMessage("[ConcurrencyKey] member 'Tenant' has no effect: 'A' sets no ConcurrencyLimit on [Job]"),
            V.Diagnostic("JOBS021").WithLocation(1)
                .WithMessage("[UniqueKey] member 'Ratio' has type 'double', which cannot be a key: use string, Guid, bool, char, an integer type, an enum, DateTime, DateTimeOffset, DateOnly or TimeOnly (or a nullable of those)"));
}
