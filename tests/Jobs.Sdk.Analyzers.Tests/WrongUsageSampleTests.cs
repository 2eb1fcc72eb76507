using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Jobs.Sdk.Analyzers.Tests;

/// <summary>Compiles Samples/WrongUsage.cs with every analyzer and checks each diagnostic fires on its marked line.</summary>
public class WrongUsageSampleTests
{
    [Fact]
    public async Task Wrong_usage_sample_shows_every_diagnostic()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Samples", "WrongUsage.cs");
        var source = await File.ReadAllTextAsync(path);
        var compilation = CSharpCompilation.Create(
            "WrongUsage",
            [
                CSharpSyntaxTree.ParseText(source, path: path),
                // The generator's IJob<T> half for the jobs the sample pushes (the generator does not run in these tests).
                CSharpSyntaxTree.ParseText(Stubs.Job("SendEmail", "send-email", ns: "WrongUsage"), path: "SendEmail.g.cs"),
                CSharpSyntaxTree.ParseText(Stubs.Job("ResizeImage", "resize", ns: "WrongUsage"), path: "ResizeImage.g.cs"),
            ],
            TestReferences.All,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));

        Assert.Empty(compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error));

        ImmutableArray<DiagnosticAnalyzer> analyzers = [new JobDeclarationAnalyzer(), new JobHandlerAnalyzer(), new JobRegistrationAnalyzer()];
        var diagnostics = await compilation.WithAnalyzers(analyzers).GetAnalyzerDiagnosticsAsync(CancellationToken.None);

        // Every marked line gets exactly the diagnostic its comment names, and nothing else is reported.
        var lines = source.Split('\n');
        var expected = lines
            .Select((text, index) => (Line: index, Id: System.Text.RegularExpressions.Regex.Match(text, @"// (JOBS\d{3}):").Groups[1].Value))
            .Where(x => x.Id.Length > 0)
            .Select(x => $"{x.Id}@{x.Line + 1}")
            .OrderBy(x => x, StringComparer.Ordinal)
            .ToList();
        var actual = diagnostics
            .Select(d => $"{d.Id}@{d.Location.GetLineSpan().StartLinePosition.Line + 1}")
            .OrderBy(x => x, StringComparer.Ordinal)
            .ToList();
        Assert.Equal(expected, actual);

        var ids = diagnostics.Select(d => d.Id).Distinct().Order(StringComparer.Ordinal).ToList();
        Assert.Equal(Enumerable.Range(1, 11).Select(i => $"JOBS{i:000}"), ids);
    }
}
