namespace Jobs.Sdk.Generators.Tests;

/// <summary>
/// Obsolete members, enum values, member types and job types (how payloads evolve: the old member is kept, marked
/// [Obsolete], while queued jobs drain): the generated serializer still reads and writes them, without CS0612/CS0618
/// warnings in generated code (errors under TreatWarningsAsErrors).
/// </summary>
public class ObsoleteGeneratorTests
{
    [Fact]
    public void Obsolete_members_enum_values_types_and_jobs_compile_without_warnings()
    {
        var output = GeneratorHarness.Run("""
            using System;
            using Jobs.Sdk;
            namespace App;
            public enum Status { Active, [Obsolete("gone")] Legacy, [Obsolete] Older, Closed }
            [Obsolete("use Part2")] public sealed record Part(int Code);
            [Job("obsolete-members")]
            public partial record ObsoleteMembers(Status Status, [property: Obsolete("use Code")] int OldCode)
            {
                [Obsolete("Use NewName")] public string? OldName { get; init; }
                [Obsolete] public string? Older { get; set; }
            #pragma warning disable CS0618
                public Part? Part { get; init; }
            #pragma warning restore CS0618
            }
            [Obsolete("replaced by v2")]
            [Job("obsolete-job")] public partial record ObsoleteJob(int A);
            #pragma warning disable CS0618
            public sealed class ObsoleteJobHandler : IJobHandler<ObsoleteJob>
            {
                public System.Threading.Tasks.Task HandleAsync(ObsoleteJob job, JobContext context, System.Threading.CancellationToken cancellationToken)
                    => System.Threading.Tasks.Task.CompletedTask;
            }
            #pragma warning restore CS0618
            """).AssertClean();

        Assert.Contains("Register<global::App.ObsoleteJob, global::App.ObsoleteJobHandler>", output.Files["JobsRegistration.g.cs"], StringComparison.Ordinal);

        Assert.True(output.Files.ContainsKey("App.ObsoleteMembers.g.cs"));
        Assert.True(output.Files.ContainsKey("App.ObsoleteJob.g.cs"));
    }

    [Fact]
    public void An_enum_value_obsolete_as_an_error_is_still_written_by_name_and_compiles()
    {
        // Old values kept for queued payloads, made unusable for new code with error: true (CS0619 cannot be suppressed).
        var output = GeneratorHarness.Run("""
            using System;
            using Jobs.Sdk;
            namespace App;
            public enum Status { Active, [Obsolete("gone", true)] Legacy, Closed, [Obsolete("gone", error: true)] Minus = -1 }
            [Job("obsolete-error-value")] public partial record ObsoleteErrorValue(Status Status);
            """).AssertClean();

        var text = output.Files["App.ObsoleteErrorValue.g.cs"];
        Assert.Contains("(global::App.Status)(1)", text, StringComparison.Ordinal);
        Assert.Contains("(global::App.Status)(-1)", text, StringComparison.Ordinal);
        Assert.Contains("\"Legacy\"", text, StringComparison.Ordinal);
    }
}
