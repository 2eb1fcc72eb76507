using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Jobs.Sdk.Generators.Tests;

public class IncrementalCachingTests
{
    private const string JobSource = """
        using System.Collections.Generic;
        using System.Threading;
        using System.Threading.Tasks;
        using Jobs.Sdk;
        using Microsoft.Extensions.DependencyInjection;
        namespace App;
        public sealed record Line(string Sku, int Quantity);
        [Job("order", MaxAttempts = 3)] public partial record OrderJob(int Id, List<Line> Lines);
        public sealed class OrderHandler : IJobHandler<OrderJob>
        {
            public Task HandleAsync(OrderJob job, JobContext context, CancellationToken cancellationToken) => Task.CompletedTask;
        }
        public static class OrderServices
        {
            public static IServiceCollection AddOrders(this IServiceCollection services) => services.AddJobs(jobs => jobs.AddGeneratedJobs());
        }
        """;

    private static readonly string[] TrackingNames = typeof(JobGenerator).Assembly
        .GetType("Jobs.Sdk.Generators.TrackingNames")!
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (string)f.GetRawConstantValue()!)
        .ToArray();

    [Fact]
    public void Unchanged_compilation_is_fully_cached()
    {
        var compilation = GeneratorHarness.CreateCompilation(JobSource);
        var driver = GeneratorHarness.CreateDriver().RunGenerators(compilation);
        driver = driver.RunGenerators(compilation.Clone());
        AssertAllCachedOrUnchanged(driver.GetRunResult());
    }

    [Fact]
    public void Unrelated_edit_is_cached_or_unchanged()
    {
        var compilation = GeneratorHarness.CreateCompilation(JobSource, "namespace App; public static class Other { public static int X => 1; }");
        var driver = GeneratorHarness.CreateDriver().RunGenerators(compilation);

        var otherTree = compilation.SyntaxTrees.Last();
        var edited = compilation.ReplaceSyntaxTree(otherTree,
            CSharpSyntaxTree.ParseText("namespace App; public static class Other { public static int X => 2; public static int Y => 3; }",
                GeneratorHarness.ParseOptions, path: otherTree.FilePath));
        driver = driver.RunGenerators(edited);
        AssertAllCachedOrUnchanged(driver.GetRunResult());
    }

    [Fact]
    public void A_job_added_in_another_file_with_a_colliding_nested_name_renames_the_extension_class()
    {
        // The extension class name depends on the other jobs of the namespace: adding A.BC next to AB.C must re-run AB.C's model.
        var compilation = GeneratorHarness.CreateCompilation(
            "using Jobs.Sdk; namespace App; public static partial class AB { [Job(\"x1\")] public partial record C(int X); }");
        var driver = GeneratorHarness.CreateDriver().RunGenerators(compilation);
        Assert.Contains("static partial class ABCJobExtensions", Generated(driver, "App.AB.C.g.cs"), StringComparison.Ordinal);

        var edited = compilation.AddSyntaxTrees(CSharpSyntaxTree.ParseText(
            "using Jobs.Sdk; namespace App; public static partial class A { [Job(\"x2\")] public partial record BC(int X); }",
            GeneratorHarness.ParseOptions, path: "Source1.cs"));
        driver = driver.RunGeneratorsAndUpdateCompilation(edited, out var output, out _);
        Assert.Contains("static partial class AB_CJobExtensions", Generated(driver, "App.AB.C.g.cs"), StringComparison.Ordinal);
        Assert.Contains("static partial class A_BCJobExtensions", Generated(driver, "App.A.BC.g.cs"), StringComparison.Ordinal);
        Assert.Empty(output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning));

        static string Generated(GeneratorDriver d, string hintName)
            => d.GetRunResult().Results.Single().GeneratedSources.Single(g => g.HintName == hintName).SourceText.ToString();
    }

    [Fact]
    public void Changing_the_attribute_argument_modifies_the_job_model()
    {
        var compilation = GeneratorHarness.CreateCompilation(JobSource);
        var driver = GeneratorHarness.CreateDriver().RunGenerators(compilation);

        var tree = compilation.SyntaxTrees.Single();
        var edited = compilation.ReplaceSyntaxTree(tree,
            CSharpSyntaxTree.ParseText(JobSource.Replace("MaxAttempts = 3", "MaxAttempts = 4", StringComparison.Ordinal), GeneratorHarness.ParseOptions, path: tree.FilePath));
        driver = driver.RunGenerators(edited);
        var result = driver.GetRunResult().Results.Single();

        var steps = result.TrackedSteps[Generators.TrackingNames.Jobs].SelectMany(s => s.Outputs).Select(o => o.Reason).ToList();
        Assert.Contains(IncrementalStepRunReason.Modified, steps);
        Assert.Contains("static int? global::Jobs.Sdk.IJob<global::App.OrderJob>.MaxAttempts => 4;",
            result.GeneratedSources.Single(s => s.HintName == "App.OrderJob.g.cs").SourceText.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Editing_the_jobs_own_file_without_changing_the_job_is_cached_or_unchanged()
    {
        var compilation = GeneratorHarness.CreateCompilation(JobSource);
        var driver = GeneratorHarness.CreateDriver().RunGenerators(compilation);

        var tree = compilation.SyntaxTrees.Single();
        var edited = compilation.ReplaceSyntaxTree(tree, CSharpSyntaxTree.ParseText(
            "// a comment at the top\n" + JobSource.Replace("Task.CompletedTask;", "Task.CompletedTask; // handler body edited", StringComparison.Ordinal)
                + "\nnamespace App { internal static class Helper { public static int X => 42; } }",
            GeneratorHarness.ParseOptions, path: tree.FilePath));
        driver = driver.RunGenerators(edited);

        AssertAllCachedOrUnchanged(driver.GetRunResult());
    }

    [Fact]
    public void Adding_a_member_to_the_job_regenerates_its_file()
    {
        var compilation = GeneratorHarness.CreateCompilation(JobSource);
        var driver = GeneratorHarness.CreateDriver().RunGenerators(compilation);

        var tree = compilation.SyntaxTrees.Single();
        var edited = compilation.ReplaceSyntaxTree(tree, CSharpSyntaxTree.ParseText(
            JobSource.Replace("OrderJob(int Id, List<Line> Lines)", "OrderJob(int Id, List<Line> Lines, string? Note = null)", StringComparison.Ordinal),
            GeneratorHarness.ParseOptions, path: tree.FilePath));
        driver = driver.RunGenerators(edited);
        var result = driver.GetRunResult().Results.Single();

        Assert.Contains(IncrementalStepRunReason.Modified,
            result.TrackedSteps[Generators.TrackingNames.JobModels].SelectMany(s => s.Outputs).Select(o => o.Reason));
        Assert.Contains(IncrementalStepRunReason.Modified,
            result.TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(r => r.Outputs).Select(o => o.Reason));
        Assert.Contains("\"note\"", result.GeneratedSources.Single(s => s.HintName == "App.OrderJob.g.cs").SourceText.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Editing_a_registration_callers_body_is_cached_or_unchanged_and_a_new_caller_regenerates_the_registration()
    {
        const string Caller = "using Jobs.Sdk; namespace App; public static class Setup { public static void Register(JobsBuilder jobs) { jobs.AddGeneratedJobs(); } }";
        var compilation = GeneratorHarness.CreateCompilation(JobSource, Caller);
        var driver = GeneratorHarness.CreateDriver().RunGenerators(compilation);

        var tree = compilation.SyntaxTrees.Last();
        var edited = compilation.ReplaceSyntaxTree(tree, CSharpSyntaxTree.ParseText(
            Caller.Replace("jobs.AddGeneratedJobs(); }", "jobs.AddGeneratedJobs(); _ = jobs.Services; }", StringComparison.Ordinal),
            GeneratorHarness.ParseOptions, path: tree.FilePath));
        driver = driver.RunGenerators(edited);
        AssertAllCachedOrUnchanged(driver.GetRunResult());

        var added = edited.AddSyntaxTrees(CSharpSyntaxTree.ParseText(
            "using Jobs.Sdk; namespace App; public sealed class Module { public Module(JobsBuilder jobs) => jobs.AddGeneratedJobs(); }",
            GeneratorHarness.ParseOptions, path: "Source2.cs"));
        driver = driver.RunGenerators(added);
        var result = driver.GetRunResult().Results.Single();
        Assert.Contains(IncrementalStepRunReason.Modified,
            result.TrackedSteps[Generators.TrackingNames.Registration].SelectMany(s => s.Outputs).Select(o => o.Reason));
        Assert.Contains("\"M:App.Module.#ctor(Jobs.Sdk.JobsBuilder)\"",
            result.GeneratedSources.Single(s => s.HintName == "JobsRegistration.g.cs").SourceText.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_wrapper_of_a_registration_caller_in_another_file_is_listed_kept_across_unrelated_edits_and_dropped_with_its_call()
    {
        const string Platform = "using Microsoft.Extensions.DependencyInjection; namespace App; public static class Platform "
            + "{ public static IServiceCollection AddPlatform(this IServiceCollection services) { return services.AddOrders(); } }";
        const string Listed = "\"M:App.Platform.AddPlatform(Microsoft.Extensions.DependencyInjection.IServiceCollection)\"";
        var compilation = GeneratorHarness.CreateCompilation(JobSource);
        var driver = GeneratorHarness.CreateDriver().RunGenerators(compilation);
        Assert.DoesNotContain(Listed, Registration(driver), StringComparison.Ordinal);

        var added = compilation.AddSyntaxTrees(CSharpSyntaxTree.ParseText(Platform, GeneratorHarness.ParseOptions, path: "Platform.cs"));
        driver = driver.RunGenerators(added);
        Assert.Contains(IncrementalStepRunReason.Modified,
            driver.GetRunResult().Results.Single().TrackedSteps[Generators.TrackingNames.RegistrationCallerList].SelectMany(s => s.Outputs).Select(o => o.Reason));
        Assert.Contains(Listed, Registration(driver), StringComparison.Ordinal);

        // A body edit that changes no call of the assembly's own members leaves the closure, and everything after it, as it was.
        var tree = added.SyntaxTrees.Last();
        var edited = added.ReplaceSyntaxTree(tree, CSharpSyntaxTree.ParseText(
            Platform.Replace("{ return services", "{ _ = services.Count; return services", StringComparison.Ordinal), GeneratorHarness.ParseOptions, path: tree.FilePath));
        driver = driver.RunGenerators(edited);
        AssertAllCachedOrUnchanged(driver.GetRunResult());

        var dropped = edited.ReplaceSyntaxTree(edited.SyntaxTrees.Last(), CSharpSyntaxTree.ParseText(
            Platform.Replace("services.AddOrders()", "services", StringComparison.Ordinal), GeneratorHarness.ParseOptions, path: tree.FilePath));
        driver = driver.RunGenerators(dropped);
        Assert.DoesNotContain(Listed, Registration(driver), StringComparison.Ordinal);
        Assert.Contains("\"M:App.OrderServices.AddOrders(Microsoft.Extensions.DependencyInjection.IServiceCollection)\"", Registration(driver), StringComparison.Ordinal);

        static string Registration(GeneratorDriver d)
            => d.GetRunResult().Results.Single().GeneratedSources.Single(g => g.HintName == "JobsRegistration.g.cs").SourceText.ToString();
    }

    [Fact]
    public void No_symbol_syntax_node_or_compilation_reaches_a_pipeline_output()
    {
        var compilation = GeneratorHarness.CreateCompilation(JobSource, """
            using Jobs.Sdk;
            namespace App;
            public enum Kind { A, B }
            [Job("other", JsonContext = typeof(OtherContext))] public partial record OtherJob(Kind Kind, System.Int128 Big);
            [System.Text.Json.Serialization.JsonSerializable(typeof(System.Int128))]
            internal sealed partial class OtherContext : System.Text.Json.Serialization.JsonSerializerContext;
            """);
        var driver = GeneratorHarness.CreateDriver().RunGenerators(compilation);
        var result = driver.GetRunResult().Results.Single();

        var walked = 0;
        foreach (var (name, runs) in result.TrackedSteps.Where(s => TrackingNames.Contains(s.Key)))
        {
            foreach (var (value, _) in runs.SelectMany(r => r.Outputs))
            {
                walked += ForbiddenGraphWalker.Walk(value, name);
            }
        }

        Assert.True(walked > 20, $"Only {walked} objects were walked; the guard is not looking at the models.");
    }

    private static void AssertAllCachedOrUnchanged(GeneratorDriverRunResult runResult)
    {
        var result = runResult.Results.Single();
        Assert.Null(result.Exception);
        var tracked = result.TrackedSteps.Where(s => TrackingNames.Contains(s.Key)).ToList();
        Assert.Equal(TrackingNames.Order(StringComparer.Ordinal), tracked.Select(s => s.Key).Order(StringComparer.Ordinal));
        foreach (var (name, runs) in tracked)
        {
            foreach (var output in runs.SelectMany(r => r.Outputs))
            {
                Assert.True(output.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged,
                    $"Step '{name}' was {output.Reason}; expected Cached or Unchanged.");
            }
        }

        foreach (var output in result.TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(r => r.Outputs))
        {
            Assert.True(output.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"An output step was {output.Reason}.");
        }
    }
}
