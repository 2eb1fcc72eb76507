using Microsoft.CodeAnalysis;

namespace Jobs.Sdk.Generators.Tests;

/// <summary>Inputs that used to produce compiler errors inside generated files (issue 14); each must now compile cleanly.</summary>
public class ProbeGeneratorTests
{
    [Fact]
    public void Job_types_whose_hint_names_differ_only_in_case_all_generate()
    {
        var output = GeneratorHarness.Run("""
            using Jobs.Sdk;
            namespace App;
            [Job("upper")] public partial record Report(int Value);
            [Job("lower")] public partial record report(int Value);
            """).AssertClean();

        var jobFiles = output.Files.Keys.Where(k => k != "JobsRegistration.g.cs").ToList();
        Assert.Equal(2, jobFiles.Count);
        Assert.Equal(2, jobFiles.Distinct(StringComparer.OrdinalIgnoreCase).Count());
        Assert.All(jobFiles, f => Assert.StartsWith("App.", f, StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public void Hint_names_without_a_case_collision_stay_plain()
    {
        var output = GeneratorHarness.Run("""
            using Jobs.Sdk;
            namespace App;
            [Job("one")] public partial record One(int Value);
            """).AssertClean();

        Assert.Contains("App.One.g.cs", output.Files.Keys);
    }

    [Fact]
    public void AddGeneratedJobs_is_not_ambiguous_between_assemblies_linked_by_InternalsVisibleTo()
    {
        var library = GeneratorHarness.CreateCompilation("""
            using System.Threading;
            using System.Threading.Tasks;
            using Jobs.Sdk;
            [assembly: System.Runtime.CompilerServices.InternalsVisibleTo("App.Tests")]
            namespace App;
            [Job("app-job")] public partial record AppJob(int Value);
            public sealed class AppHandler : IJobHandler<AppJob>
            {
                public Task HandleAsync(AppJob job, JobContext context, CancellationToken cancellationToken) => Task.CompletedTask;
            }
            """).WithAssemblyName("App");
        GeneratorHarness.CreateDriver().RunGeneratorsAndUpdateCompilation(library, out var libraryOutput, out _);
        using var stream = new MemoryStream();
        var emit = libraryOutput.Emit(stream);
        Assert.True(emit.Success, string.Join("\n", emit.Diagnostics));

        var tests = GeneratorHarness.CreateCompilation("""
            using System.Threading;
            using System.Threading.Tasks;
            using Jobs.Sdk;
            using Microsoft.Extensions.DependencyInjection;
            namespace App.Tests;
            [Job("test-job")] public partial record TestJob(int Value);
            public sealed class TestHandler : IJobHandler<TestJob>
            {
                public Task HandleAsync(TestJob job, JobContext context, CancellationToken cancellationToken) => Task.CompletedTask;
            }
            public static class Setup
            {
                public static JobsBuilder Own(JobsBuilder jobs) => jobs.AddGeneratedJobs();
                public static JobsBuilder Both(JobsBuilder jobs) => AppGeneratedJobsExtensions.AddGeneratedJobs(jobs).AddGeneratedJobs();
            }
            """).WithAssemblyName("App.Tests").AddReferences(MetadataReference.CreateFromImage(stream.ToArray()));
        GeneratorHarness.CreateDriver().RunGeneratorsAndUpdateCompilation(tests, out var output, out _);

        Assert.Empty(output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning));
    }

    [Fact]
    public void A_job_name_with_a_line_separator_stays_inside_its_doc_comment_and_literal()
    {
        var output = GeneratorHarness.Run("""
            using Jobs.Sdk;
            namespace App;
            [Job("line\u2028break\u2029para")] public partial record Odd(int Value);
            """).AssertClean();

        var text = output.Files["App.Odd.g.cs"];
        Assert.DoesNotContain('\u2028', text);
        Assert.DoesNotContain('\u2029', text);
    }

    [Fact]
    public void A_constructor_parameter_whose_type_differs_from_its_property_generates_nothing()
    {
        var output = GeneratorHarness.Run("""
            using Jobs.Sdk;
            namespace App;
            [Job("mismatch")]
            public partial class Mismatch
            {
                public Mismatch(int count) => Count = count;
                public long Count { get; }
            }
            """).AssertClean();

        Assert.DoesNotContain("App.Mismatch.g.cs", output.Files.Keys);
    }

    [Fact]
    public void Duplicate_json_names_generate_nothing()
    {
        var output = GeneratorHarness.Run("""
            using System.Text.Json.Serialization;
            using Jobs.Sdk;
            namespace App;
            [Job("dup-case")] public partial record DupCase(string Name, string NAME);
            [Job("dup-camel")] public partial record DupCamel(string URLValue, string UrlValue);
            [Job("dup-attr")] public partial record DupAttr([property: JsonPropertyName("x")] int A, [property: JsonPropertyName("x")] int B);
            """).AssertClean();

        Assert.DoesNotContain(output.Files.Keys, k => k.StartsWith("App.Dup", StringComparison.Ordinal));
    }

    [Fact]
    public void User_types_named_like_generated_classes_do_not_break_the_build()
    {
        var output = GeneratorHarness.Run("""
            using System.Threading;
            using System.Threading.Tasks;
            using Jobs.Sdk;
            namespace App
            {
                [Job("clash")] public partial record Clash(int Value)
                {
                    public int __JobsJson => Value;
                }

                public sealed class ClashJobExtensions { }

                public sealed class ClashHandler : IJobHandler<Clash>
                {
                    public Task HandleAsync(Clash job, JobContext context, CancellationToken cancellationToken) => Task.CompletedTask;
                }
            }

            namespace Microsoft.Extensions.DependencyInjection
            {
                public sealed class TestAssemblyGeneratedJobsExtensions { }
            }
            """).AssertClean();

        Assert.Contains("static partial class ClashJobExtensions_", output.Files["App.Clash.g.cs"], StringComparison.Ordinal);
    }

    [Fact]
    public void Nested_jobs_whose_type_names_concatenate_alike_get_distinct_extension_classes()
    {
        // AB.C, A.BC and a top-level ABC all used to share 'ABCJobExtensions' (CS0579: duplicate GeneratedCode attribute).
        var output = GeneratorHarness.Run("""
            using System.Threading;
            using System.Threading.Tasks;
            using Jobs.Sdk;
            namespace App;
            public static partial class AB { [Job("x1")] public partial record C(int X); }
            public static partial class A { [Job("x2")] internal partial record BC(string Y); }
            [Job("x3")] public partial record ABC(long Z);
            public static class Caller
            {
                public static async Task PushAll(JobQueue queue, CancellationToken ct)
                {
                    await queue.PushCAsync(1, cancellationToken: ct);
                    await queue.PushBCAsync("y", cancellationToken: ct);
                    await queue.PushABCAsync(2L, cancellationToken: ct);
                }
            }
            """).AssertClean();

        Assert.Contains("public static partial class AB_CJobExtensions", output.Files["App.AB.C.g.cs"], StringComparison.Ordinal);
        Assert.Contains("internal static partial class A_BCJobExtensions", output.Files["App.A.BC.g.cs"], StringComparison.Ordinal);
        Assert.Contains("public static partial class ABCJobExtensions", output.Files["App.ABC.g.cs"], StringComparison.Ordinal);
    }

    [Fact]
    public void A_user_type_named_like_the_serializer_services_alias_does_not_break_the_build()
    {
        // The generated files aliased JobJsonServices as '__JobJsonServices'; a type of that name in the job's namespace hid the alias.
        GeneratorHarness.Run("""
            using Jobs.Sdk;
            namespace App
            {
                public static class __JobJsonServices { }
                [Job("a")] public partial record A(int X, string Y);
                public static partial class Outer
                {
                    public sealed class __JobJsonServices { }
                    [Job("b")] public partial record B(long Z);
                }
            }
            """).AssertClean();
    }

    [Fact]
    public void User_types_under_a_System_root_namespace_are_serialized()
    {
        var output = GeneratorHarness.Run("""
            using Jobs.Sdk;
            namespace System.Acme
            {
                public sealed record Item(string Sku);
            }
            namespace Microsoft.Acme
            {
                [Job("acme")] public partial record AcmeJob(System.Acme.Item Item);
            }
            """).AssertClean();

        Assert.Contains("Microsoft.Acme.AcmeJob.g.cs", output.Files.Keys);
    }

    [Fact]
    public void A_simple_job_is_at_most_150_generated_lines()
    {
        var output = GeneratorHarness.Run("""
            using Jobs.Sdk;
            namespace App;
            /// <summary>Sends an email.</summary>
            [Job("send-email", MaxAttempts = 5, TimeoutSeconds = 30)]
            public partial record SendEmail(string To, string Subject, string? Body = null);
            """).AssertClean();

        var lines = output.Files["App.SendEmail.g.cs"].Split('\n').Length;
        Assert.True(lines <= 150, $"A simple job generated {lines} lines (target: at most 150).");
    }
}
