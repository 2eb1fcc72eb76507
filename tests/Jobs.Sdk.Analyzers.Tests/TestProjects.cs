using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;
using Jobs.Sdk.Generators;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Emit;

namespace Jobs.Sdk.Analyzers.Tests;

/// <summary>
/// Compiles one project of a multi-project layout as the build does: the real generator, then the analyzers and the
/// compiler; the image is what the next project references.
/// </summary>
internal static class TestProjects
{
    /// <summary>Compiles one project; returns its image and the warnings and errors (analyzers' and compiler's) as "ID@line: message".</summary>
    public static Task<(MetadataReference Image, IReadOnlyList<string> Diagnostics)> BuildAsync(string name, string source, params MetadataReference[] references)
        => BuildAsync(name, source, references, runGenerator: true, externalJobs: null);

    /// <param name="name">The assembly name.</param>
    /// <param name="source">The project's one source file.</param>
    /// <param name="references">Images of the projects it references.</param>
    /// <param name="runGenerator"><see langword="false"/> for a library built without the Jobs.Sdk generator's output.</param>
    /// <param name="externalJobs">The <c>jobs_sdk.external_jobs</c> value of its .editorconfig, if any.</param>
    /// <param name="referenceAssembly">Return the reference assembly (what the build hands to referencing projects) instead of the full image.</param>
    public static async Task<(MetadataReference Image, IReadOnlyList<string> Diagnostics)> BuildAsync(
        string name, string source, IEnumerable<MetadataReference> references, bool runGenerator, string? externalJobs, bool referenceAssembly = false)
    {
        var parse = new CSharpParseOptions(LanguageVersion.Preview);
        Compilation output = CSharpCompilation.Create(name, [CSharpSyntaxTree.ParseText(source, parse, path: name + ".cs")],
            TestReferences.All.AddRange(references),
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));
        if (runGenerator)
        {
            CSharpGeneratorDriver.Create([new JobGenerator().AsSourceGenerator()], parseOptions: parse)
                .RunGeneratorsAndUpdateCompilation(output, out output, out _);
        }

        ImmutableArray<DiagnosticAnalyzer> analyzers = [new JobDeclarationAnalyzer(), new JobHandlerAnalyzer(), new JobRegistrationAnalyzer()];
        var options = externalJobs is null ? null : new AnalyzerOptions([], new EditorConfig(Descriptors.ExternalJobsOption, externalJobs));
        var analyzerDiagnostics = await output.WithAnalyzers(analyzers, options).GetAnalyzerDiagnosticsAsync(CancellationToken.None);
        var diagnostics = analyzerDiagnostics.Concat(output.GetDiagnostics())
            .Where(d => d.Severity >= DiagnosticSeverity.Warning)
            .Select(d => $"{d.Id}@{d.Location.GetLineSpan().StartLinePosition.Line + 1}: {d.GetMessage(System.Globalization.CultureInfo.InvariantCulture)}")
            .ToList();
        using var stream = new MemoryStream();
        var emit = output.Emit(stream, options: referenceAssembly ? new EmitOptions(metadataOnly: true, includePrivateMembers: false) : null);
        Assert.True(emit.Success || diagnostics.Count > 0, string.Join("\n", emit.Diagnostics));
        return (MetadataReference.CreateFromImage(stream.ToArray()), diagnostics);
    }

    /// <summary>One .editorconfig key for every file.</summary>
    private sealed class EditorConfig(string key, string value) : AnalyzerConfigOptionsProvider
    {
        private readonly Values _values = new(key, value);

        public override AnalyzerConfigOptions GlobalOptions => _values;

        public override AnalyzerConfigOptions GetOptions(SyntaxTree tree) => _values;

        public override AnalyzerConfigOptions GetOptions(AdditionalText textFile) => _values;

        private sealed class Values(string key, string value) : AnalyzerConfigOptions
        {
            public override bool TryGetValue(string name, [NotNullWhen(true)] out string? found)
            {
                found = name == key ? value : null;
                return found is not null;
            }
        }
    }
}
