using Jobs.Sdk.Generators;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Jobs.Sdk.Generators.Tests;

/// <summary>
/// The job's docs carried onto the generated push methods must not warn where documentation is checked
/// (GenerateDocumentationFile with TreatWarningsAsErrors fails the build on CS1734/CS1735).
/// </summary>
public class DocumentationGeneratorTests
{
    [Fact]
    public void A_paramref_in_the_job_summary_does_not_warn_on_the_push_overloads_that_take_the_job_object()
    {
        const string source = """
            using Jobs.Sdk;
            namespace App;
            /// <summary>Charges <paramref name="Amount"/> to <paramref name="Account"/>.</summary>
            /// <param name="Account">The account, not <paramref name="Amount"/>.</param>
            /// <param name="Amount">The amount.</param>
            [Job("charge")] public partial record Charge(string Account, decimal Amount);
            """;
        var parse = GeneratorHarness.ParseOptions.WithDocumentationMode(DocumentationMode.Diagnose);
        var compilation = CSharpCompilation.Create("DocAssembly", [CSharpSyntaxTree.ParseText(source, parse, path: "Source0.cs")], GeneratorHarness.References,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));
        CSharpGeneratorDriver.Create([new JobGenerator().AsSourceGenerator()], parseOptions: parse)
            .RunGeneratorsAndUpdateCompilation(compilation, out var output, out _);

        var warnings = output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning && d.Id != "CS1591").ToList();

        Assert.True(warnings.Count == 0, string.Join("\n", warnings));
        var generated = output.SyntaxTrees.Single(t => t.FilePath.EndsWith("App.Charge.g.cs", StringComparison.Ordinal)).ToString();
        Assert.Contains("Charges <c>Amount</c> to <c>Account</c>.", generated, StringComparison.Ordinal);
        Assert.Contains("Charges <paramref name=\"Amount\" /> to <paramref name=\"Account\" />.", generated, StringComparison.Ordinal);
    }
}
