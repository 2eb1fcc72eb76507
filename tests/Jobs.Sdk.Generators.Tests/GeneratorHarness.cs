using System.Collections.Immutable;
using Jobs.Sdk;
using Jobs.Sdk.Generators;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Jobs.Sdk.Generators.Tests;

/// <summary>Compiles sources in memory and runs <see cref="JobGenerator"/> over them with a plain driver.</summary>
internal static class GeneratorHarness
{
    public static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Latest, DocumentationMode.Parse);

    private static readonly Lazy<ImmutableArray<MetadataReference>> LazyReferences = new(() =>
    {
        var paths = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Where(p => p.EndsWith(".dll", StringComparison.OrdinalIgnoreCase))
            .ToHashSet(StringComparer.Ordinal);
        paths.Add(typeof(JobAttribute).Assembly.Location);
        return [.. paths.Order(StringComparer.Ordinal).Select(p => (MetadataReference)MetadataReference.CreateFromFile(p))];
    });

    public static ImmutableArray<MetadataReference> References => LazyReferences.Value;

    public static CSharpCompilation CreateCompilation(params string[] sources)
        => CSharpCompilation.Create(
            "TestAssembly",
            sources.Select((s, i) => CSharpSyntaxTree.ParseText(s, ParseOptions, path: $"Source{i}.cs")),
            References,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));

    public static GeneratorDriver CreateDriver(bool trackSteps = true)
        => CSharpGeneratorDriver.Create(
            [new JobGenerator().AsSourceGenerator()],
            parseOptions: ParseOptions,
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: trackSteps));

    /// <summary>Runs the generator; returns the generated files and the diagnostics of the resulting compilation.</summary>
    public static GeneratorOutput Run(params string[] sources)
    {
        var compilation = CreateCompilation(sources);
        var driver = CreateDriver().RunGeneratorsAndUpdateCompilation(compilation, out var output, out var generatorDiagnostics);
        var result = driver.GetRunResult().Results.Single();
        var files = result.GeneratedSources.ToDictionary(s => s.HintName, s => s.SourceText.ToString(), StringComparer.Ordinal);
        var diagnostics = generatorDiagnostics.AddRange(output.GetDiagnostics())
            .Where(d => d.Severity >= DiagnosticSeverity.Warning)
            .ToImmutableArray();
        return new GeneratorOutput(files, diagnostics, result.Exception, output);
    }
}

internal sealed record GeneratorOutput(
    IReadOnlyDictionary<string, string> Files,
    ImmutableArray<Diagnostic> Diagnostics,
    Exception? Exception,
    Compilation Compilation)
{
    /// <summary>Fails with the diagnostics when the generator threw or the output compilation has warnings or errors.</summary>
    public GeneratorOutput AssertClean()
    {
        Assert.Null(Exception);
        Assert.True(Diagnostics.IsEmpty, "Compilation diagnostics:\n" + string.Join("\n", Diagnostics.Select(d => d.ToString())));
        return this;
    }
}
