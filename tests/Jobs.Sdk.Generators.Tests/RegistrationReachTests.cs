using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Jobs.Sdk.Generators.Tests;

/// <summary>
/// <c>[assembly: JobRegistrationReach]</c>: a library's members from which a referenced library's registration is reached
/// (through that library's listed wrapper), written for JOBS025 whether or not the library has jobs of its own; nothing
/// in a library that calls no such member; cached across edits that change no such call.
/// </summary>
public class RegistrationReachTests
{
    private const string Reach = "JobsRegistrationReach.g.cs";

    private const string Platform = """
        using Microsoft.Extensions.DependencyInjection;
        namespace Platform;
        public static class PlatformServices
        {
            public static IServiceCollection AddPlatform(this IServiceCollection services) { return Register(services); }
            private static IServiceCollection Register(IServiceCollection services) => Billing.BillingServices.AddBillingJobs(services);
            public static IServiceCollection AddOptions(this IServiceCollection services) { return services; }
        }
        """;

    private static readonly Lazy<MetadataReference> Billing = new(() =>
    {
        var billing = CSharpCompilation.Create("Billing", [CSharpSyntaxTree.ParseText("""
            using System.Linq; using System.Threading; using System.Threading.Tasks; using Jobs.Sdk; using Microsoft.Extensions.DependencyInjection;
            namespace Billing;
            [Job("charge-card")] public partial record ChargeCard(int Cents);
            internal sealed class ChargeCardHandler : IJobHandler<ChargeCard>
            {
                public Task HandleAsync(ChargeCard job, JobContext context, CancellationToken cancellationToken) => Task.CompletedTask;
            }
            public static class BillingServices
            {
                public static IServiceCollection AddBillingJobs(this IServiceCollection services)
                {
                    services.Select(d => d.ImplementationInstance).OfType<JobsBuilder>().LastOrDefault()?.AddGeneratedJobs();
                    return services;
                }
            }
            """, GeneratorHarness.ParseOptions, path: "Billing.cs")], GeneratorHarness.References,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));
        GeneratorHarness.CreateDriver().RunGeneratorsAndUpdateCompilation(billing, out var output, out _);
        using var stream = new MemoryStream();
        var emit = output.Emit(stream);
        Assert.True(emit.Success, string.Join("\n", emit.Diagnostics));
        return MetadataReference.CreateFromImage(stream.ToArray());
    });

    private static CSharpCompilation Compile(string source)
        => GeneratorHarness.CreateCompilation(source).WithAssemblyName("Platform").AddReferences(Billing.Value);

    [Fact]
    public void A_library_without_jobs_lists_its_members_reaching_a_referenced_librarys_wrapper()
    {
        var compilation = Compile(Platform);
        GeneratorHarness.CreateDriver().RunGeneratorsAndUpdateCompilation(compilation, out var output, out _);

        var generated = output.SyntaxTrees.Single(t => t.FilePath.EndsWith(Reach, StringComparison.Ordinal)).ToString();
        Assert.Contains("[assembly: global::Jobs.Sdk.Infrastructure.JobRegistrationReach(\"Billing\", "
            + "\"M:Platform.PlatformServices.AddPlatform(Microsoft.Extensions.DependencyInjection.IServiceCollection)\")]", generated, StringComparison.Ordinal);
        Assert.DoesNotContain("AddOptions", generated, StringComparison.Ordinal);
        Assert.Empty(output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning));
    }

    [Fact]
    public void A_library_calling_no_such_member_gets_no_reach_and_an_edit_that_changes_no_such_call_is_cached()
    {
        var none = GeneratorHarness.CreateDriver().RunGenerators(Compile(Platform.Replace("Billing.BillingServices.AddBillingJobs(services)", "services", StringComparison.Ordinal)));
        Assert.DoesNotContain(none.GetRunResult().Results.Single().GeneratedSources, s => s.HintName == Reach);

        var compilation = Compile(Platform);
        var driver = GeneratorHarness.CreateDriver().RunGenerators(compilation);
        var tree = compilation.SyntaxTrees.Single();
        driver = driver.RunGenerators(compilation.ReplaceSyntaxTree(tree, CSharpSyntaxTree.ParseText(
            Platform.Replace("{ return services; }", "{ _ = services.Count; return services; }", StringComparison.Ordinal),
            GeneratorHarness.ParseOptions, path: tree.FilePath)));

        var result = driver.GetRunResult().Results.Single();
        foreach (var step in new[] { TrackingNames.ExternalRegistrationCallers, TrackingNames.RegistrationReach })
        {
            Assert.All(result.TrackedSteps[step].SelectMany(s => s.Outputs), o => Assert.True(
                o.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"Step '{step}' was {o.Reason}."));
        }

        Assert.Contains(result.GeneratedSources, s => s.HintName == Reach);
    }
}
